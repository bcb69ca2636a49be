import { renameSync } from "node:fs";
import type { Any } from "@bufbuild/protobuf/wkt";
import {
  ContainerdError,
  ErrorKind,
  errAlreadyExists,
  errFailedPrecondition,
  errInvalidArgument,
  errNotFound,
} from "@containerd-ts/errdefs";
import {
  SnapshotCommitSchema,
  SnapshotPrepareSchema,
  SnapshotRemoveSchema,
} from "@containerd-ts/gen/containerd/events/snapshot_pb.js";
import { eventAny, type EventExchange } from "../../events/index.js";
import { mapField, parseFilters, type Adaptor } from "../../filters/index.js";
import { checkLabels } from "../../identifiers.js";
import { applyLabelPaths, dropEmpty, type Labels, type MetadataStore } from "../../store/index.js";
import { SnapshotTable, type SnapshotKind, type SnapshotRecord } from "../../store/snapshots.js";
import type { NamespaceService } from "../namespaces/domain.js";
import type { MountSpec, SnapshotStorage, Usage } from "./storage.js";

export type { MountSpec, SnapshotKind, Usage };

/** What Stat, Update and List report of a snapshot. */
export interface SnapshotInfo {
  name: string;
  parent: string;
  kind: SnapshotKind;
  labels: Labels;
  createdAt: Date;
  updatedAt: Date;
}

/** The label unpack puts on a snapshot to name the committed snapshot it will become. */
export const SNAPSHOT_REF_LABEL = "containerd.io/snapshot.ref";

/** The lease resource type of a snapshotter's snapshots (containerd's `snapshots/<name>`). */
export const leaseResourceType = (snapshotter: string) => `snapshots/${snapshotter}`;

const infoOf = (s: SnapshotRecord): SnapshotInfo => ({
  name: s.key,
  parent: s.parent,
  kind: s.kind,
  labels: s.labels,
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
});

/** containerd's snapshot filter fields: kind, name, parent, labels.<key>. */
export function snapshotAdaptor(s: SnapshotInfo): Adaptor {
  return ([head, ...rest]) => {
    switch (head) {
      case "kind":
        return s.kind;
      case "name":
        return s.name;
      case "parent":
        return s.parent;
      case "labels":
        return mapField(rest, s.labels);
    }
    return undefined;
  };
}

const notFound = (key: string) => errNotFound(`snapshot ${key} does not exist: not found`);

/**
 * One snapshotter as containerd's metadata layer presents it: namespaced keys over a
 * storage shared by all namespaces. Removing a snapshot forgets it at once; its directory
 * goes with the next collection (collectGarbage), as in containerd.
 */
export class SnapshotService {
  private readonly table: SnapshotTable;

  constructor(
    private readonly store: MetadataStore,
    private readonly events: EventExchange,
    private readonly namespaces: NamespaceService,
    readonly name: string,
    readonly storage: SnapshotStorage,
    /** Called after a removal so a collection removes the directory soon. */
    private readonly removed: () => void = () => undefined,
  ) {
    this.table = new SnapshotTable(store.db);
  }

  prepare(ns: string, key: string, parent = "", labels: Labels = {}, lease?: string) {
    return this.create(ns, "active", key, parent, labels, lease);
  }

  view(ns: string, key: string, parent = "", labels: Labels = {}, lease?: string) {
    return this.create(ns, "view", key, parent, labels, lease);
  }

  stat(ns: string, key: string): SnapshotInfo {
    return infoOf(this.get(ns, key));
  }

  mounts(ns: string, key: string): MountSpec[] {
    const s = this.get(ns, key);
    if (s.kind === "committed") {
      throw errFailedPrecondition(
        `${this.storage.mountsRefusal}: requested snapshot ${this.backendKey(s)} not active or view: failed precondition`,
      );
    }
    return this.mountsOf(ns, s);
  }

  /** Turns the active snapshot `key` into the committed snapshot `name` (same directory). */
  async commit(ns: string, name: string, key: string, labels: Labels = {}, lease?: string) {
    checkLabels(labels, "info.Labels: ");
    if (this.table.get(ns, this.name, name)) throw this.exists(name);
    const active = this.get(ns, key);
    if (active.kind !== "active") {
      throw errFailedPrecondition(
        `failed to commit snapshot: snapshot ${JSON.stringify(this.backendKey(active))} is not active: failed precondition`,
      );
    }
    const usage = await this.storage.usage(active.backendId);
    this.publishing(ns, "/snapshot/commit", eventAny(SnapshotCommitSchema, { key, name }), () => {
      if (this.table.get(ns, this.name, name)) throw this.exists(name);
      this.addLease(ns, lease, name);
      const current = this.get(ns, key);
      if (current.backendId !== active.backendId || current.kind !== "active") {
        throw errFailedPrecondition(`snapshot ${JSON.stringify(key)} is not active`);
      }
      const now = new Date();
      this.table.delete(ns, this.name, key);
      this.table.insert(ns, this.name, {
        ...current,
        key: name,
        backendKey: `${ns}/${this.table.nextKeySequence(ns, this.name)}/${name}`,
        kind: "committed",
        labels: dropEmpty(labels),
        ...usage,
        createdAt: now,
        updatedAt: now,
      });
      if (lease) this.store.leases.deleteResource(ns, lease, this.resource(key));
    });
  }

  /** Forgets the snapshot (FailedPrecondition while it has children). */
  remove(ns: string, key: string, lease?: string): void {
    this.publishing(ns, "/snapshot/remove", eventAny(SnapshotRemoveSchema, { key }), () => {
      this.get(ns, key);
      if (this.table.children(ns, this.name, key).length > 0) {
        throw errFailedPrecondition("cannot remove snapshot with child: failed precondition");
      }
      this.table.delete(ns, this.name, key);
      if (lease) this.store.leases.deleteResource(ns, lease, this.resource(key));
    });
    this.removed();
  }

  /** Field-mask paths `labels` and `labels.<key>`; without paths the labels are replaced. */
  update(ns: string, input: { name: string; labels: Labels }, paths: readonly string[] = []) {
    if (input.name === "") throw errInvalidArgument("invalid argument");
    return this.store.transaction(() => {
      const current = this.get(ns, input.name);
      for (const p of paths) {
        if (p !== "labels" && !p.startsWith("labels.")) {
          throw errInvalidArgument(
            `cannot update ${JSON.stringify(p)} field on snapshot ${JSON.stringify(input.name)}: invalid argument`,
          );
        }
      }
      const labels =
        paths.length === 0
          ? dropEmpty(input.labels)
          : applyLabelPaths(current.labels, input.labels, paths);
      checkLabels(labels, "info.Labels: ");
      const next = { ...current, labels, updatedAt: new Date() };
      this.table.update(ns, this.name, next);
      return infoOf(next);
    });
  }

  /** A filter syntax error is Unknown here: containerd's List returns it unconverted. */
  list(ns: string, filters: readonly string[] = []): SnapshotInfo[] {
    let f;
    try {
      f = parseFilters(filters);
    } catch (err) {
      throw new ContainerdError(ErrorKind.Unknown, (err as Error).message);
    }
    return this.table
      .list(ns, this.name)
      .map(infoOf)
      .filter((s) => f.match(snapshotAdaptor(s)));
  }

  /** An active snapshot is measured now; others report what was measured at commit. */
  async usage(ns: string, key: string): Promise<Usage> {
    const s = this.get(ns, key);
    if (s.kind === "active") return this.storage.usage(s.backendId);
    return { size: s.size, inodes: s.inodes };
  }

  /** Removes directories no snapshot of any namespace names (containerd's Cleanup). */
  async cleanup(): Promise<number> {
    const { ids, stale } = await this.storage.directories();
    // read after listing: a directory only gets its id in the transaction that adds its row
    const held = this.table.backendIds(this.name);
    const doomed = ids.filter((id) => !held.has(id));
    for (const id of doomed) await this.storage.remove(id);
    for (const name of stale) await this.storage.removeStale(name);
    return doomed.length;
  }

  /** Forgets the given snapshots of a namespace, children before parents (no events). */
  forget(ns: string, keys: readonly string[]): void {
    for (const k of keys) this.table.delete(ns, this.name, k);
  }

  /** Every snapshot of the namespace in this snapshotter (for the collector). */
  records(ns: string): SnapshotRecord[] {
    return this.table.list(ns, this.name);
  }

  private async create(
    ns: string,
    kind: "active" | "view",
    key: string,
    parentKey: string,
    labels: Labels,
    lease: string | undefined,
  ): Promise<MountSpec[]> {
    checkLabels(labels, "info.Labels: ");
    if (key === "") throw errInvalidArgument("snapshot key must not be empty: invalid argument");
    const parent = this.checkCreate(ns, key, parentKey, labels);
    if (parent && parent.kind !== "committed") {
      // containerd's metadata has taken a sequence number before its snapshotter refuses
      this.store.transaction(() => this.table.nextKeySequence(ns, this.name));
      throw errInvalidArgument(
        `failed to create snapshot: parent ${JSON.stringify(this.backendKey(parent))} is not committed snapshot: invalid argument`,
      );
    }
    const chain = parent ? this.chain(ns, parent) : [];
    const owns = this.storage.ownsDir(kind, parent !== undefined);
    const made = owns ? await this.storage.create(kind, chain) : undefined;
    let record: SnapshotRecord;
    try {
      const event = eventAny(SnapshotPrepareSchema, { key, parent: parentKey });
      this.publishing(ns, "/snapshot/prepare", event, () => {
        this.namespaces.ensure(ns);
        const p = this.checkCreate(ns, key, parentKey, labels);
        if (p?.backendId !== parent?.backendId || (p && p.kind !== "committed")) {
          throw errFailedPrecondition(`parent snapshot ${parentKey} changed during create`);
        }
        this.addLease(ns, lease, key);
        const now = new Date();
        record = {
          key,
          backendId: this.table.nextBackendId(this.name),
          backendKey: `${ns}/${this.table.nextKeySequence(ns, this.name)}/${key}`,
          kind,
          parent: parentKey,
          labels: dropEmpty(labels),
          size: 0,
          inodes: 0,
          createdAt: now,
          updatedAt: now,
        };
        this.table.insert(ns, this.name, record);
        // last, so that nothing after it can roll the row back and orphan the directory
        if (made) renameSync(made, this.storage.dir(record.backendId));
      });
    } catch (err) {
      if (made) await this.storage.discard(made);
      throw err;
    }
    return this.mountsOf(ns, record!);
  }

  /** containerd's metadata checks before a create, in its order; returns the parent. */
  private checkCreate(
    ns: string,
    key: string,
    parentKey: string,
    labels: Labels,
  ): SnapshotRecord | undefined {
    const target = labels[SNAPSHOT_REF_LABEL];
    if (target && this.table.get(ns, this.name, target)) {
      throw errAlreadyExists(`target snapshot ${JSON.stringify(target)}: already exists`);
    }
    if (this.table.get(ns, this.name, key)) throw this.exists(key);
    if (parentKey === "") return undefined;
    const parent = this.table.get(ns, this.name, parentKey);
    if (!parent) {
      throw errNotFound(`parent snapshot ${parentKey} does not exist: not found`);
    }
    return parent;
  }

  private mountsOf(ns: string, s: SnapshotRecord): MountSpec[] {
    const parent = s.parent ? this.table.get(ns, this.name, s.parent) : undefined;
    return this.storage.mounts(s.kind, s.backendId, parent ? this.chain(ns, parent) : []);
  }

  /** Backend ids of a snapshot and its ancestors, nearest first. */
  private chain(ns: string, s: SnapshotRecord): number[] {
    const ids: number[] = [];
    for (let p: SnapshotRecord | undefined = s; p; ) {
      ids.push(p.backendId);
      p = p.parent ? this.table.get(ns, this.name, p.parent) : undefined;
    }
    return ids;
  }

  private get(ns: string, key: string): SnapshotRecord {
    const s = this.table.get(ns, this.name, key);
    if (!s) throw notFound(key);
    return s;
  }

  /** The name containerd's snapshotter knows a snapshot by, as its messages show it. */
  private backendKey(s: SnapshotRecord): string {
    return s.backendKey || s.key;
  }

  private exists(key: string): ContainerdError {
    return errAlreadyExists(`snapshot ${JSON.stringify(key)}: already exists`);
  }

  private resource(key: string) {
    return { type: leaseResourceType(this.name), id: key };
  }

  /** Makes a change and records its event in one transaction; delivers the event after. */
  private publishing(ns: string, topic: string, event: Any, change: () => void): void {
    const e = this.store.transaction(() => {
      change();
      return this.events.record({ namespace: ns, topic, event });
    });
    this.events.deliver(e);
  }

  private addLease(ns: string, lease: string | undefined, key: string): void {
    if (!lease) return;
    if (!this.store.leases.get(ns, lease)) {
      throw errNotFound("lease does not exist: not found");
    }
    this.store.leases.addResource(ns, lease, this.resource(key));
  }
}
