import { join } from "node:path";
import { errInvalidArgument } from "@containerd-ts/errdefs";
import type { DaemonContext } from "../../context.js";
import { ContentTable } from "../../store/content.js";
import { ImageTable } from "../../store/images.js";
import { contentServiceFor } from "../content/domain.js";
import { SnapshotService } from "./domain.js";
import { unreachableSnapshots } from "./gc.js";
import { NATIVE_PLUGIN_DIR, NativeStorage } from "./native.js";
import { OVERLAY_PLUGIN_DIR, OverlayStorage } from "./overlay.js";
import type { SnapshotStorage } from "./storage.js";

/**
 * How long after a snapshot removal the collection runs. containerd's scheduler (defaults)
 * collects on its next periodic run after a deletion, some tens of milliseconds later, so a
 * client removing several snapshots in a row (`ctr snapshots rm a b c`) still finds an
 * unrooted one that the first removal made collectable.
 */
const COLLECT_AFTER_REMOVE_MS = 100;

const soonPerDaemon = new WeakMap<DaemonContext, () => void>();

/**
 * Schedules a collection COLLECT_AFTER_REMOVE_MS from now (once for any number of calls
 * before it runs): after a snapshot removal, or a container deleted without its snapshot.
 */
export function collectSnapshotsSoon(ctx: DaemonContext): void {
  let soon = soonPerDaemon.get(ctx);
  if (!soon) {
    soon = collectionAfterRemovals(ctx);
    soonPerDaemon.set(ctx, soon);
  }
  soon();
}

function collectionAfterRemovals(ctx: DaemonContext): () => void {
  const content = contentServiceFor(ctx);
  let timer: NodeJS.Timeout | undefined;
  return () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      if (ctx.shutdown.aborted) return;
      content.scheduleCollection((err) =>
        ctx.log.warn("garbage collection failed", { error: err }),
      );
    }, COLLECT_AFTER_REMOVE_MS).unref();
  };
}

const perDaemon = new WeakMap<DaemonContext, Map<string, SnapshotService>>();

/** The daemon's snapshotters by name (made on first use): native, and overlayfs where the kernel has it. */
export function snapshottersFor(ctx: DaemonContext): Map<string, SnapshotService> {
  let all = perDaemon.get(ctx);
  if (!all) {
    const make = (name: string, storage: SnapshotStorage) =>
      new SnapshotService(ctx.store, ctx.events, ctx.namespaces, name, storage, () =>
        collectSnapshotsSoon(ctx),
      );
    const root = ctx.config.root;
    const list = [make("native", new NativeStorage(join(root, NATIVE_PLUGIN_DIR)))];
    if (OverlayStorage.supported()) {
      list.push(make("overlayfs", new OverlayStorage(join(root, OVERLAY_PLUGIN_DIR))));
    }
    all = new Map(list.map((s) => [s.name, s]));
    perDaemon.set(ctx, all);
  }
  return all;
}

/** The named snapshotter; InvalidArgument as containerd's service answers for others. */
export function snapshotterFor(ctx: DaemonContext, name: string): SnapshotService {
  if (name === "") throw errInvalidArgument("snapshotter argument missing: invalid argument");
  const sn = snapshottersFor(ctx).get(name);
  if (!sn) throw errInvalidArgument(`snapshotter not loaded: ${name}: invalid argument`);
  return sn;
}

/**
 * Forgets, in every namespace and snapshotter, the snapshots nothing holds (see gc.ts) and
 * then removes the directories no snapshot names. Meant to run right after the content
 * collection, so the content still there is the content that is reachable.
 */
export function collectSnapshots(ctx: DaemonContext): Promise<number> {
  const { store } = ctx;
  const content = new ContentTable(store.db);
  const images = new ImageTable(store.db);
  const services = [...snapshottersFor(ctx).values()];
  const now = new Date();
  const forgotten = store.transaction(() => {
    let n = 0;
    for (const { name: ns } of store.namespaces.list()) {
      const leases = store.leases.list(ns).map((l) => ({
        labels: l.labels,
        resources: store.leases.resources(ns, l.id),
      }));
      for (const sn of services) {
        const doomed = unreachableSnapshots(
          {
            snapshotter: sn.name,
            leases,
            images: images.list(ns),
            containers: store.containers.list(ns),
            content: content.list(ns),
            snapshots: sn.records(ns),
          },
          now,
        );
        sn.forget(ns, doomed);
        n += doomed.length;
      }
    }
    return n;
  });
  return Promise.all(services.map((sn) => sn.cleanup())).then(() => forgotten);
}
