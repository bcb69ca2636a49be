#!/usr/bin/env node
// Bundles the entry points that start on a container's hot path (the shim, runc-ts and runc-ts
// init) into one file each, after `tsc -b` (the type check and the per-module dist/ stay as
// they are). Node then loads 1 module instead of ~130: most of a shim's start-up was the ESM
// loader, and tree shaking drops the protobuf well-known types nobody uses.
//
// A bundle is only as fresh as the last `npm run build`, while `npx tsc -b` alone updates
// dist/. So each bundle starts with a guard: when a package it was built from has been
// rebuilt since (its tsconfig.tsbuildinfo is newer than the bundle), it runs the unbundled
// entry beside it instead: slower, never stale.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** entry (unbundled, built by tsc) → bundle; both under the package's dist/ */
const BUNDLES = [
  { pkg: "packages/shim", entry: "dist/main.js", out: "dist/bundle/containerd-shim-ts-v2.js" },
  { pkg: "packages/runc", entry: "dist/cli/main.js", out: "dist/bundle/runc-ts.js" },
  { pkg: "packages/runc", entry: "dist/init/entry.js", out: "dist/bundle/runc-ts-init.js" },
];

// loaded from node_modules at run time: native code (ffi-rs's prebuilt .node) and the daemon's
const EXTERNAL = ["ffi-rs", "@yuuang/*", "better-sqlite3"];

/** The tsbuildinfo of the workspace package that holds `file`, if any. */
function buildInfoOf(file) {
  for (let dir = dirname(file); dir.startsWith(ROOT) && dir !== ROOT; dir = dirname(dir)) {
    if (!existsSync(join(dir, "package.json"))) continue;
    for (const candidate of ["tsconfig.tsbuildinfo", "dist/tsconfig.tsbuildinfo"])
      if (existsSync(join(dir, candidate))) return join(dir, candidate);
    return undefined;
  }
  return undefined;
}

/** The guard run before the bundled code (see above); paths relative to the bundle. */
function guardEntry(entryRel, buildInfos) {
  return `import { statSync } from "node:fs";
const here = new URL(import.meta.url);
function newer(rel, than) {
  try {
    return statSync(new URL(rel, here)).mtimeMs > than;
  } catch {
    return false;
  }
}
const built = statSync(here).mtimeMs;
if (${JSON.stringify(buildInfos)}.some((p) => newer(p, built))) {
  await import(new URL(${JSON.stringify(entryRel)}, here).href);
} else {
  await import(${JSON.stringify(entryRel)});
}
`;
}

async function bundle({ pkg, entry, out }) {
  const entryAbs = join(ROOT, pkg, entry);
  const outAbs = join(ROOT, pkg, out);
  const entryRel = relative(dirname(outAbs), entryAbs);
  const common = {
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: EXTERNAL,
    logLevel: "warning",
    legalComments: "none",
    // a module left in CommonJS still finds require()
    banner: {
      js: '#!/usr/bin/env node\nimport { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);',
    },
  };
  // first pass: which packages the bundle is made of, for the guard
  const probe = await build({
    ...common,
    entryPoints: [entryAbs],
    write: false,
    metafile: true,
    outfile: outAbs,
  });
  const infos = new Set();
  for (const input of Object.keys(probe.metafile.inputs)) {
    const info = buildInfoOf(resolve(ROOT, input));
    if (info) infos.add(`./${relative(dirname(outAbs), info)}`);
  }
  mkdirSync(dirname(outAbs), { recursive: true });
  await build({
    ...common,
    stdin: {
      contents: guardEntry(`./${entryRel}`, [...infos].sort()),
      resolveDir: dirname(outAbs),
      sourcefile: "bundle-guard.js",
      loader: "js",
    },
    outfile: outAbs,
    sourcemap: "linked",
  });
  chmodSync(outAbs, 0o755);
  // an import() of a computed specifier stays in the bundle and resolves against the bundle's
  // own directory at run time: wrong there, so the build refuses it (the guard's aside)
  const code = readFileSync(outAbs, "utf8");
  const computed = [...code.matchAll(/\bimport\((?!new URL\()[^)]*\)/g)].map((m) => m[0]);
  if (computed.length > 0)
    throw new Error(`${out}: import() of a computed specifier: ${computed.join(", ")}`);
  const modules = Object.keys(probe.metafile.inputs).length;
  const kb = (statSync(outAbs).size / 1024).toFixed(0);
  process.stdout.write(`bundled ${relative(ROOT, outAbs)}: ${modules} modules, ${kb} KiB\n`);
}

for (const b of BUNDLES) await bundle(b);
