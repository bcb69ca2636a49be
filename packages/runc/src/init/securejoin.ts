import { lstatSync, readlinkSync } from "node:fs";
import { posix } from "node:path";

/**
 * Resolves `unsafe` inside `root` the way the kernel would if `root` were `/`: symlinks are
 * followed but can never climb out of `root` (filepath-securejoin's rule). Missing
 * components are kept as they are.
 */
export function secureJoin(root: string, unsafe: string): string {
  const parts = unsafe.split("/").filter((p) => p !== "" && p !== ".");
  const resolved: string[] = [];
  let links = 0;
  while (parts.length) {
    const part = parts.shift()!;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const candidate = posix.join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch {
      isLink = false;
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > 255) throw new Error(`secure join ${unsafe}: too many symlinks`);
    const target = readlinkSync(candidate);
    if (target.startsWith("/")) resolved.length = 0;
    parts.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
  }
  return posix.join(root, ...resolved);
}
