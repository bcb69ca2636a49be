import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { deleteBundle, loadBundle, type Bundle } from "./bundle.js";
import type { RuntimeManager, RuntimeLogger } from "./manager.js";
import { socketPathOf } from "./shim-command.js";
import { ShimLog, stderrSink, type ShimLogSink } from "./shim-log.js";
import { ShimTask, SHIM_DEADLINES } from "./shim-task.js";

export interface RecoveryOptions {
  /** runtime name of a container, for bundles written before `shim-binary-path` existed */
  readonly runtimeOf?: (namespace: string, id: string) => Promise<string | undefined>;
  /** shims reconnected at once */
  readonly concurrency?: number;
  /** one deadline for the daemon's start; bundles not done by then are recovered in the background */
  readonly deadlineMs?: number;
  readonly log?: RuntimeLogger;
  readonly shimLog?: ShimLogSink;
}

export interface RecoveryReport {
  reconnected: string[];
  cleaned: string[];
  /** bundles still being recovered (in the background) when the overall deadline passed */
  skipped: string[];
}

async function listVisibleDirs(path: string): Promise<string[]> {
  try {
    const entries = await readdir(path, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith(".")).map((e) => e.name);
  } catch {
    return [];
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * After a daemon restart: reconnect to every shim that still runs (bundles under
 * `<state>/io.containerd.runtime.v2.task/<ns>/<id>`, dot-names skipped), clean up after the
 * dead ones. Parallel with a bound, every Connect with 5 s, and one overall deadline.
 */
export async function recoverTasks(
  manager: RuntimeManager,
  o: RecoveryOptions = {},
): Promise<RecoveryReport> {
  const report: RecoveryReport = { reconnected: [], cleaned: [], skipped: [] };
  const bundles: Bundle[] = [];
  for (const ns of await listVisibleDirs(manager.roots.state)) {
    for (const id of await listVisibleDirs(join(manager.roots.state, ns))) {
      bundles.push(loadBundle(manager.roots, ns, id));
    }
  }
  const pending = new Set(bundles.map((b) => `${b.namespace}/${b.id}`));
  let next = 0;
  const worker = async () => {
    while (next < bundles.length) {
      const bundle = bundles[next++]!;
      const name = `${bundle.namespace}/${bundle.id}`;
      try {
        const connect = manager.shimDeadlines.connect ?? SHIM_DEADLINES.connect;
        const ok = await recoverOne(manager, bundle, connect, o);
        (ok ? report.reconnected : report.cleaned).push(name);
      } catch (err) {
        o.log?.error("recover task", {
          id: bundle.id,
          namespace: bundle.namespace,
          error: String(err),
        });
        report.cleaned.push(name);
      } finally {
        pending.delete(name);
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, o.concurrency ?? 8) }, worker);
  const all = Promise.all(workers).then(() => removeOrphanWorkDirs(manager));
  // one overall deadline for the daemon's start; what is left goes on in the background
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([
    all.then(() => true),
    new Promise<false>((r) => (timer = setTimeout(() => r(false), o.deadlineMs ?? 30_000))),
  ]);
  clearTimeout(timer);
  if (!done) {
    report.skipped.push(...pending);
    all.catch((err: unknown) => o.log?.error("background recovery", { error: String(err) }));
  }
  return report;
}

async function recoverOne(
  manager: RuntimeManager,
  bundle: Bundle,
  timeoutMs: number,
  o: RecoveryOptions,
): Promise<boolean> {
  const files = await readdir(bundle.path).catch(() => [] as string[]);
  if (files.length === 0) {
    await deleteBundle(bundle);
    return false;
  }
  let runtime = (await readText(join(bundle.path, "shim-binary-path")))?.trim();
  if (!runtime) runtime = await o.runtimeOf?.(bundle.namespace, bundle.id);
  let binary: string | undefined;
  if (runtime) {
    try {
      binary = manager.resolveRuntime(runtime);
    } catch {
      binary = undefined;
    }
  }
  if (binary === undefined) {
    // no way to run the delete action: unmount and remove what is left
    await deleteBundle(bundle);
    return false;
  }
  const address = (await readText(join(bundle.path, "address")))?.trim();
  let log: ShimLog | undefined;
  let task: ShimTask | undefined;
  if (address) {
    try {
      log = await ShimLog.open(bundle.path, o.shimLog ?? stderrSink);
      task = await ShimTask.connect(
        bundle,
        binary,
        socketPathOf(address),
        timeoutMs,
        manager.shimDeadlines,
      );
      await task.connectTask(timeoutMs);
      manager.register(task, log);
      return true;
    } catch (err) {
      o.log?.warn("shim unreachable after restart", { id: bundle.id, error: String(err) });
      task?.close();
      log?.close();
    }
  }
  await manager.cleanupDeadShim(bundle, binary);
  return false;
}

/** Work dirs under `<root>/io.containerd.runtime.v2.task/<ns>/` without a live task. */
async function removeOrphanWorkDirs(manager: RuntimeManager): Promise<void> {
  for (const ns of await listVisibleDirs(manager.roots.root)) {
    const dir = join(manager.roots.root, ns);
    for (const id of await readdir(dir).catch(() => [] as string[])) {
      if (!manager.isKnown(ns, id))
        await rm(join(dir, id), { recursive: true, force: true }).catch(() => {});
    }
  }
}
