import {
  ContainerdError,
  ErrorKind,
  errAlreadyExists,
  errFailedPrecondition,
  errInvalidArgument,
  errNotFound,
  isAlreadyExists,
  isNotFound,
  validateIdentifier,
} from "@containerd-ts/errdefs";
import { join } from "node:path";
import { ContentDeleteSchema } from "@containerd-ts/gen/containerd/events/content_pb.js";
import type { DaemonContext } from "../../context.js";
import { eventAny, type EventExchange } from "../../events/index.js";
import { mapField, parseFilters, type Adaptor } from "../../filters/index.js";
import { checkLabels } from "../../identifiers.js";
import { ContentTable, type ContentRecord, type IngestRecord } from "../../store/content.js";
import { ImageTable } from "../../store/images.js";
import { applyLabelPaths, dropEmpty, type Labels, type MetadataStore } from "../../store/index.js";
import type { NamespaceService } from "../namespaces/domain.js";
import { BlobStore, type BlobWriter, type IngestStatus } from "./blobs.js";
import { digestError } from "./digest.js";
import { unreachable, type NamespaceHoldings } from "./gc.js";

export type { ContentRecord, IngestStatus };

/** containerd's directory for its content plugin under the daemon root. */
export const CONTENT_PLUGIN_DIR = "io.containerd.content.v1.content";

/** An ingest nobody leases is kept this long (containerd's GC would collect it after). */
const UNLEASED_INGEST_TTL_MS = 24 * 60 * 60 * 1000;

/** A read or write past the data: gRPC OutOfRange at the transport edge. */
export class OutOfRangeError extends ContainerdError {
  constructor(message: string) {
    super(ErrorKind.InvalidArgument, message);
    this.name = "OutOfRangeError";
  }
}

/** containerd's content filter fields: digest, labels.<key> (size is not filterable). */
export function contentAdaptor(c: ContentRecord): Adaptor {
  return ([head, ...rest]) => {
    if (head === "digest") return c.digest;
    if (head === "labels") return mapField(rest, c.labels);
    return undefined;
  };
}

/** Ingest statuses filter on ref only, and an empty ref still counts as present. */
const statusAdaptor =
  (s: IngestStatus): Adaptor =>
  ([head]) =>
    head === "ref" ? s.ref : undefined;

export interface WriterOptions {
  ref: string;
  /** Expected size; 0 when unknown. */
  total?: number;
  /** Expected digest; "" when unknown. */
  expected?: string;
  /** The lease (containerd-lease header) that keeps the ingest and the blob alive. */
  lease?: string;
}

const leaseMissing = () => errNotFound("lease does not exist: not found");

/**
 * containerd's metadata content store over the namespace-blind BlobStore: a blob is visible
 * in a namespace only once committed (or registered) there; bytes are shared, so a namespace
 * writing a blob the store already holds writes nothing. Deleting a blob from the last
 * namespace that holds it removes its bytes (containerd's GC would, later).
 */
export class ContentService {
  readonly blobs: BlobStore;
  private readonly table: ContentTable;
  private readonly images: ImageTable;
  private collectionPending = false;
  /** Collections of other stores (snapshots) run after each content collection. */
  readonly followers: Array<() => void> = [];

  constructor(
    private readonly store: MetadataStore,
    private readonly events: EventExchange,
    private readonly namespaces: NamespaceService,
    /** <root>/io.containerd.content.v1.content */
    root: string,
  ) {
    this.blobs = new BlobStore(root);
    this.table = new ContentTable(store.db);
    this.images = new ImageTable(store.db);
  }

  info(ns: string, digest: string): ContentRecord {
    const c = this.table.get(ns, digest);
    if (!c) throw errNotFound(`content digest ${digest}: not found`);
    return c;
  }

  has(ns: string, digest: string): boolean {
    return this.table.get(ns, digest) !== undefined;
  }

  /** Filter syntax errors carry one `: invalid argument` (the content store does not re-wrap). */
  list(ns: string, filters: readonly string[] = []): ContentRecord[] {
    const f = parseFilters(filters);
    return this.table.list(ns).filter((c) => f.match(contentAdaptor(c)));
  }

  /** Field-mask paths `labels` and `labels.<key>`; without paths the labels are replaced. */
  update(
    ns: string,
    input: { digest: string; labels: Labels },
    paths: readonly string[] = [],
  ): ContentRecord {
    for (const p of paths) {
      if (p !== "labels" && !p.startsWith("labels.")) {
        throw errInvalidArgument(
          `cannot update ${JSON.stringify(p)} field on content info ${JSON.stringify(input.digest)}: invalid argument`,
        );
      }
    }
    return this.store.transaction(() => {
      const current = this.info(ns, input.digest);
      const labels =
        paths.length === 0
          ? dropEmpty(input.labels)
          : applyLabelPaths(current.labels, input.labels, paths);
      checkLabels(labels, "info.Labels: ");
      const next = { ...current, labels, updatedAt: new Date() };
      this.table.update(ns, next);
      return next;
    });
  }

  /**
   * Forgets the blob in this namespace (publishing /content/delete); its bytes go with the
   * collection that follows, when no namespace holds it any more.
   */
  delete(ns: string, digest: string, lease?: string): void {
    const e = this.store.transaction(() => {
      if (!this.table.delete(ns, digest)) {
        throw errNotFound(`content digest ${digest}: not found`);
      }
      if (lease) this.store.leases.deleteResource(ns, lease, { type: "content", id: digest });
      return this.events.record({
        namespace: ns,
        topic: "/content/delete",
        event: eventAny(ContentDeleteSchema, { digest }),
      });
    });
    this.events.deliver(e);
    this.scheduleCollection();
  }

  /**
   * The byte range to serve for Read: a negative offset reads from 0, a size of 0 (or one
   * past the end) reads to the end; an offset past the end is OutOfRange.
   */
  readRange(
    ns: string,
    digest: string,
    offset: number,
    size: number,
  ): { offset: number; size: number; chunks: AsyncGenerator<Uint8Array> } {
    const info = this.info(ns, digest);
    const start = Math.max(0, offset);
    if (start > info.size) {
      throw new OutOfRangeError(`read past object length ${info.size} bytes`);
    }
    const n = size <= 0 || start + size > info.size ? info.size - start : size;
    return { offset: start, size: n, chunks: this.blobs.read(digest, start, n) };
  }

  status(ns: string, ref: string): IngestStatus {
    const ingest = this.table.getIngest(ns, ref);
    if (!ingest) {
      throw errNotFound(
        `could not get status for ref ${JSON.stringify(ref)}: reference ${ref}: not found`,
      );
    }
    return { ...this.blobs.status(ingest.backendRef), ref };
  }

  listStatuses(ns: string, filters: readonly string[] = []): IngestStatus[] {
    const f = parseFilters(filters);
    return this.table.listIngests(ns).flatMap((ingest) => {
      let s: IngestStatus;
      try {
        s = { ...this.blobs.status(ingest.backendRef), ref: ingest.ref };
      } catch (err) {
        if (isNotFound(err)) return [];
        throw err;
      }
      return f.match(statusAdaptor(s)) ? [s] : [];
    });
  }

  /** Drops the namespace's unfinished write `ref` and its bytes. */
  abort(ns: string, ref: string, lease?: string): void {
    const ingest = this.store.transaction(() => {
      const found = this.table.getIngest(ns, ref);
      if (!found) throw errNotFound(`reference ${ref}: not found`);
      this.table.deleteIngest(ns, ref);
      if (lease) this.store.leases.deleteResource(ns, lease, { type: "ingests", id: ref });
      return found;
    });
    // a shared blob has no ingest directory unless bytes were written after all
    try {
      this.blobs.abort(ingest.backendRef);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * Opens a write of `ref` in the namespace, resuming an unfinished one. AlreadyExists when
   * the namespace has the expected blob already (the lease still gets it); Unavailable while
   * another writer holds the ref.
   */
  async writer(ns: string, opts: WriterOptions): Promise<ContentWriter> {
    validateIdentifier(ns, "namespace");
    const { ref, lease } = opts;
    if (ref === "") throw errInvalidArgument("ref must not be empty: invalid argument");
    let total = opts.total ?? 0;
    const expected = opts.expected ?? "";
    if (expected !== "" && this.has(ns, expected)) {
      try {
        this.store.transaction(() => this.leaseContent(ns, lease, expected));
      } catch (err) {
        if (!isNotFound(err)) throw err;
        throw errNotFound(`unable to lease content: ${(err as Error).message}`);
      }
      throw errAlreadyExists(`content ${expected}: already exists`);
    }
    const existing = this.table.getIngest(ns, ref);
    const backendRef = existing?.backendRef ?? `${ns}/${ref}`;
    const storedSize = expected !== "" && !digestError(expected) && this.blobs.size(expected);
    const shared = typeof storedSize === "number" && (total === 0 || total === storedSize);
    if (shared) total = storedSize;
    const backend = shared ? undefined : await this.blobs.writer(backendRef, total);
    try {
      this.store.transaction(() => {
        this.namespaces.ensure(ns);
        const leased = this.leaseIngest(ns, lease, ref);
        this.table.putIngest(ns, {
          ref,
          backendRef,
          expected: shared ? expected : "",
          expiresAt: leased ? undefined : new Date(Date.now() + UNLEASED_INGEST_TTL_MS),
        });
      });
    } catch (err) {
      await backend?.close();
      throw err;
    }
    const ingest: IngestRecord = { ref, backendRef, expected: shared ? expected : "" };
    return new ContentWriter(this, ns, ingest, lease, { size: total, digest: expected }, backend);
  }

  /**
   * Writes a whole blob in one go (containerd's content.WriteBlob), for in-process users such
   * as a checkpoint: a blob the namespace already has counts as written. Returns its info.
   */
  async putBlob(
    ns: string,
    ref: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    opts: { expected?: string; size?: number; labels?: Labels; lease?: string } = {},
  ): Promise<ContentRecord> {
    const { expected = "", size = 0, lease } = opts;
    let w: ContentWriter;
    try {
      w = await this.writer(ns, { ref, total: size, expected, lease });
    } catch (err) {
      if (isAlreadyExists(err) && expected !== "") return this.info(ns, expected);
      throw err;
    }
    let digest: string;
    try {
      // a blob the store holds already (shared) needs no bytes; anything else starts over
      if (!w.status().expected) {
        if (w.status().offset > 0) await w.truncate();
        for await (const chunk of data instanceof Uint8Array ? [data] : data) await w.write(chunk);
      }
      digest = w.digest();
      await w.commit(size, expected, opts.labels);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      digest = expected || w.digest();
    } finally {
      await w.close();
    }
    return this.info(ns, digest);
  }

  /** Records a committed blob in the namespace; AlreadyExists when it was there. */
  register(
    ns: string,
    ref: string,
    lease: string | undefined,
    blob: { digest: string; size: number; labels: Labels },
  ): void {
    checkLabels(blob.labels, "info.Labels: ");
    const exists = this.store.transaction(() => {
      this.namespaces.ensure(ns);
      const now = new Date();
      const record = { ...blob, labels: dropEmpty(blob.labels), createdAt: now, updatedAt: now };
      const inserted = this.table.insert(ns, record);
      this.table.deleteIngest(ns, ref);
      if (lease) this.store.leases.deleteResource(ns, lease, { type: "ingests", id: ref });
      this.leaseContent(ns, lease, blob.digest);
      return !inserted;
    });
    if (exists) throw errAlreadyExists(`content ${blob.digest}: already exists`);
  }

  /**
   * containerd's garbage collection for content: in every namespace, forgets the blobs and
   * ingests nothing reaches (see gc.ts), then removes bytes no namespace holds and ingest
   * directories no namespace owns. Content removed this way publishes no event (as in
   * containerd). Returns how many blobs and ingests were forgotten.
   */
  collectGarbage(now = new Date()): { content: number; ingests: number } {
    const doomed = this.store.transaction(() =>
      this.store.namespaces.list().map(({ name }) => {
        const found = unreachable(this.holdings(name), now);
        for (const d of found.digests) this.table.delete(name, d);
        for (const r of found.refs) this.table.deleteIngest(name, r);
        return found;
      }),
    );
    const owned = new Set(
      this.store.namespaces
        .list()
        .flatMap(({ name }) => this.table.listIngests(name).map((i) => i.backendRef)),
    );
    // an open writer's ingest is kept: it gets its owner right after the writer opens
    this.blobs.sweepIngests((ref) => owned.has(ref));
    const held = this.table.held();
    this.blobs.sweepBlobs((digest) => held.has(digest));
    for (const follow of this.followers) follow();
    return {
      content: doomed.reduce((n, d) => n + d.digests.length, 0),
      ingests: doomed.reduce((n, d) => n + d.refs.length, 0),
    };
  }

  /**
   * Runs collectGarbage soon (once for any number of calls before it runs): containerd's
   * scheduler collects right after a deletion (lease, image, content) with its defaults.
   */
  scheduleCollection(onError: (err: unknown) => void = () => undefined): void {
    if (this.collectionPending) return;
    this.collectionPending = true;
    setImmediate(() => {
      this.collectionPending = false;
      try {
        this.collectGarbage();
      } catch (err) {
        onError(err);
      }
    });
  }

  private holdings(ns: string): NamespaceHoldings {
    return {
      name: ns,
      leases: this.store.leases.list(ns).map((l) => ({
        labels: l.labels,
        resources: this.store.leases.resources(ns, l.id),
      })),
      images: this.images.list(ns),
      containers: this.store.containers.list(ns),
      content: this.table.list(ns),
      ingests: this.table.listIngests(ns),
    };
  }

  /** Opens a BlobWriter for a shared ingest that starts writing after all. */
  backendWriter(backendRef: string, total: number): Promise<BlobWriter> {
    return this.blobs.writer(backendRef, total);
  }

  private leaseContent(ns: string, lease: string | undefined, digest: string): void {
    if (!lease) return;
    if (!this.store.leases.get(ns, lease)) throw leaseMissing();
    this.store.leases.addResource(ns, lease, { type: "content", id: digest });
  }

  private leaseIngest(ns: string, lease: string | undefined, ref: string): boolean {
    if (!lease) return false;
    if (!this.store.leases.get(ns, lease)) throw leaseMissing();
    this.store.leases.addResource(ns, lease, { type: "ingests", id: ref });
    return true;
  }
}

/**
 * A namespace's write of one ref. Without a BlobWriter it stands for a blob the store
 * already holds (containerd's shared content policy): its status is complete and a commit
 * only registers the blob; writing bytes to it starts a real ingest seeded with the blob.
 */
export class ContentWriter {
  private readonly started = new Date();

  constructor(
    private readonly content: ContentService,
    private readonly ns: string,
    private readonly ingest: IngestRecord,
    private readonly lease: string | undefined,
    private readonly desc: { size: number; digest: string },
    private backend: BlobWriter | undefined,
  ) {}

  get ref(): string {
    return this.ingest.ref;
  }

  status(): IngestStatus {
    if (this.backend) return { ...this.backend.status(), ref: this.ingest.ref };
    return {
      ref: this.ingest.ref,
      offset: this.desc.size,
      total: this.desc.size,
      startedAt: this.started,
      updatedAt: this.started,
      expected: this.desc.digest,
    };
  }

  digest(): string {
    return this.backend ? this.backend.digest() : this.desc.digest;
  }

  async write(data: Uint8Array): Promise<number> {
    if (!this.backend) {
      if (data.length === 0) return 0;
      this.backend = await this.copyShared(this.desc.size);
    }
    return this.backend.write(data);
  }

  /** Starts the write over from offset 0. */
  async truncate(): Promise<void> {
    if (this.backend) return this.backend.truncate();
    this.backend = await this.copyShared(0);
  }

  /**
   * Verifies and commits: FailedPrecondition when size or digest differ, AlreadyExists when
   * the namespace has the blob already (the ingest is gone either way).
   */
  async commit(size: number, expected: string, labels: Labels = {}): Promise<void> {
    let actual: string;
    if (!this.backend) {
      if (size !== 0 && size !== this.desc.size) {
        throw errFailedPrecondition(
          `${JSON.stringify(this.ref)} failed size validation: ${this.desc.size} != ${size}: failed precondition`,
        );
      }
      if (expected !== "" && expected !== this.desc.digest) {
        throw errFailedPrecondition(
          `${JSON.stringify(this.ref)} unexpected digest: failed precondition`,
        );
      }
      size = this.desc.size;
      actual = this.desc.digest;
    } else {
      const written = this.backend.status().offset;
      if (size !== 0 && size !== written) {
        await this.backend.close();
        throw errFailedPrecondition(
          `${JSON.stringify(this.ref)} failed size validation: ${written} != ${size}: failed precondition`,
        );
      }
      size = written;
      try {
        await this.backend.commit(size, expected);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      actual = this.backend.digest();
    }
    this.content.register(this.ns, this.ref, this.lease, { digest: actual, size, labels });
  }

  /** Keeps an unfinished ingest for a later resume. */
  async close(): Promise<void> {
    await this.backend?.close();
  }

  /** A real ingest holding the first `size` bytes of the shared blob. */
  private async copyShared(size: number): Promise<BlobWriter> {
    const w = await this.content.backendWriter(this.ingest.backendRef, this.desc.size);
    try {
      await w.truncate();
      for await (const chunk of this.content.blobs.read(this.desc.digest, 0, size)) {
        await w.write(chunk);
      }
    } catch (err) {
      await w.close();
      throw err;
    }
    return w;
  }
}

/** Where the content plugin keeps blobs and ingests under the daemon root. */
export function contentRoot(daemonRoot: string): string {
  return join(daemonRoot, CONTENT_PLUGIN_DIR);
}

const perDaemon = new WeakMap<DaemonContext, ContentService>();

/** The daemon's one content store (made on first use), for the gRPC service and in-process callers. */
export function contentServiceFor(ctx: DaemonContext): ContentService {
  let svc = perDaemon.get(ctx);
  if (!svc) {
    svc = new ContentService(ctx.store, ctx.events, ctx.namespaces, contentRoot(ctx.config.root));
    perDaemon.set(ctx, svc);
  }
  return svc;
}
