import { readFile } from "node:fs/promises";

/** Mount points at or below `dir`, deepest first (the order they must be unmounted in). */
export async function mountsUnder(dir: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile("/proc/self/mountinfo", "utf8");
  } catch {
    return [];
  }
  const prefix = dir.endsWith("/") ? dir : dir + "/";
  const found: string[] = [];
  for (const line of text.split("\n")) {
    const target = line.split(" ")[4];
    if (target === undefined) continue;
    const path = unescapeMountPath(target);
    if (path === dir || path.startsWith(prefix)) found.push(path);
  }
  return found.sort((a, b) => b.length - a.length);
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Unmounts everything at or below `dir`. The common case (nothing mounted, the shim already
 * cleaned up) costs one read of mountinfo and no process start.
 */
export async function unmountAll(dir: string): Promise<void> {
  for (let round = 0; round < 8; round++) {
    const targets = await mountsUnder(dir);
    if (targets.length === 0) return;
    const { libc, MNT_DETACH } = await import("@containerd-ts/sys");
    for (const target of targets) {
      try {
        libc().umount2(target, MNT_DETACH);
      } catch {
        // raced with another unmount or already gone; the next round re-reads mountinfo
      }
    }
  }
}
