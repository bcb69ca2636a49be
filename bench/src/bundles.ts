import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * Whether a bundle (packages/{shim,runc}/dist/bundle, made by `npm run build`) is older than
 * a package build (`npx tsc -b` since): its launcher then runs the unbundled entry, and a bench
 * would measure that instead. Compared as the launchers compare them, by tsbuildinfo mtimes.
 */
export function staleBundles(repo: string): string[] {
  const infos = [join(repo, "gen", "dist", "tsconfig.tsbuildinfo")];
  // the packages the bundles are made of
  for (const p of ["errdefs", "sys", "ttrpc", "runc", "shim"])
    infos.push(join(repo, "packages", p, "tsconfig.tsbuildinfo"));
  const newest = Math.max(
    ...infos.map((f) => statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0),
  );
  const stale: string[] = [];
  for (const pkg of ["shim", "runc"]) {
    const dir = join(repo, "packages", pkg, "dist", "bundle");
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".bundle.cjs")))
      if (statSync(join(dir, f)).mtimeMs < newest)
        stale.push(join("packages", pkg, "dist", "bundle", f));
  }
  return stale;
}

/** Prints a warning when staleBundles finds any. */
export function warnIfStale(repo: string, when: string): void {
  const stale = staleBundles(repo);
  if (stale.length > 0)
    console.warn(
      `warning (${when}): ${stale.join(", ")} older than a package build: the bins run` +
        " unbundled code (npm run build bundles again)",
    );
}
