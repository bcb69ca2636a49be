import {
  ContainerdError,
  ErrorKind,
  errAlreadyExists,
  errInvalidArgument,
  errNotFound,
} from "@containerd-ts/errdefs";
import {
  ImageCreateSchema,
  ImageDeleteSchema,
  ImageUpdateSchema,
} from "@containerd-ts/gen/containerd/services/images/v1/events_pb.js";
import { eventAny, type EventExchange } from "../../events/index.js";
import { mapField, nonEmpty, parseStoreFilters, type Adaptor } from "../../filters/index.js";
import { checkLabels } from "../../identifiers.js";
import { ImageTable, type DescriptorRecord, type ImageRecord } from "../../store/images.js";
import { applyLabelPaths, dropEmpty, type MetadataStore } from "../../store/index.js";
import { digestError } from "../content/digest.js";
import type { NamespaceService } from "../namespaces/domain.js";

export type { DescriptorRecord, ImageRecord };

/** What a client supplies; timestamps are the store's. */
export type ImageInput = Omit<ImageRecord, "createdAt" | "updatedAt">;

/** containerd's image filter fields: name, target.digest, target.mediatype, labels.*, annotations.*. */
export function imageAdaptor(i: ImageRecord): Adaptor {
  return ([head, ...rest]) => {
    switch (head) {
      case "name":
        return nonEmpty(i.name);
      case "target":
        if (rest[0] === "digest") return nonEmpty(i.target.digest);
        if (rest[0] === "mediatype") return nonEmpty(i.target.mediaType);
        return undefined;
      case "labels":
        return mapField(rest, i.labels);
      case "annotations":
        return mapField(rest, i.target.annotations);
    }
    return undefined;
  };
}

const invalid = (msg: string) => errInvalidArgument(`${msg}: invalid argument`);

/** containerd's validateImage, in its order and words. */
function validateImage(i: ImageInput): void {
  if (i.name === "") throw invalid("image name must not be empty");
  if (Object.hasOwn(i.labels, "")) {
    // containerd 1.6 lets an empty key through validation; its bolt write then fails (Unknown)
    throw new ContainerdError(
      ErrorKind.Unknown,
      `writing labels for image ${i.name}: failed to set label ""=${JSON.stringify(i.labels[""])}: key required`,
    );
  }
  checkLabels(i.labels, "image.Labels: ");
  const problem = digestError(i.target.digest);
  if (problem) {
    throw invalid(`Target.Digest ${JSON.stringify(i.target.digest)} invalid: ${problem}`);
  }
  if (i.target.size <= 0) throw invalid("Target.Size must be greater than zero");
  if (i.target.mediaType === "") throw invalid("Target.MediaType must be set");
}

/** Copies one field-mask path from `input` onto `next`; InvalidArgument for unknown paths. */
function applyImagePath(next: ImageRecord, input: ImageInput, path: string): void {
  if (path === "labels" || path.startsWith("labels.")) {
    next.labels = applyLabelPaths(next.labels, input.labels, [path]);
  } else if (path.startsWith("annotations.")) {
    const key = path.slice("annotations.".length);
    const annotations = { ...next.target.annotations };
    const v = input.target.annotations[key];
    if (v === undefined || v === "") delete annotations[key];
    else annotations[key] = v;
    next.target = { ...next.target, annotations };
  } else if (path === "annotations") {
    next.target = { ...next.target, annotations: dropEmpty(input.target.annotations) };
  } else if (path === "target") {
    next.target = { ...input.target, annotations: dropEmpty(input.target.annotations) };
  } else {
    throw invalid(
      `cannot update ${JSON.stringify(path)} field on image ${JSON.stringify(next.name)}`,
    );
  }
}

const notFound = (name: string) => errNotFound(`image ${JSON.stringify(name)}: not found`);

/** Images as containerd's metadata store keeps them; changes publish /images/* events. */
export class ImageService {
  private readonly table: ImageTable;

  constructor(
    private readonly store: MetadataStore,
    private readonly events: EventExchange,
    private readonly namespaces: NamespaceService,
    /** Content garbage collection: `collect` now (a delete with `sync`), or `schedule` it. */
    private readonly gc: { collect(): void; schedule(): void } = {
      collect: () => undefined,
      schedule: () => undefined,
    },
  ) {
    this.table = new ImageTable(store.db);
  }

  get(ns: string, name: string): ImageRecord {
    const i = this.table.get(ns, name);
    if (!i) throw notFound(name);
    return i;
  }

  list(ns: string, filters: readonly string[] = []): ImageRecord[] {
    const f = parseStoreFilters(filters);
    return this.table.list(ns).filter((i) => f.match(imageAdaptor(i)));
  }

  create(ns: string, input: ImageInput): ImageRecord {
    if (input.name === "") throw errInvalidArgument("Image.Name required");
    validateImage(input);
    const now = new Date();
    const record: ImageRecord = {
      ...input,
      labels: dropEmpty(input.labels),
      target: { ...input.target, annotations: dropEmpty(input.target.annotations) },
      createdAt: now,
      updatedAt: now,
    };
    const e = this.store.transaction(() => {
      this.namespaces.ensure(ns);
      if (!this.table.insert(ns, record)) {
        throw errAlreadyExists(`image ${JSON.stringify(record.name)}: already exists`);
      }
      return this.events.record({
        namespace: ns,
        topic: "/images/create",
        event: eventAny(ImageCreateSchema, { name: record.name, labels: record.labels }),
      });
    });
    this.events.deliver(e);
    return record;
  }

  /**
   * Applies the field-mask paths (labels, labels.<key>, target, annotations,
   * annotations.<key>); without paths the whole image is replaced (its created time stays).
   */
  update(ns: string, input: ImageInput, paths: readonly string[] = []): ImageRecord {
    if (input.name === "") throw errInvalidArgument("Image.Name required");
    const { record, event } = this.store.transaction(() => {
      const current = this.table.get(ns, input.name);
      if (!current) throw notFound(input.name);
      let next: ImageRecord = { ...current };
      if (paths.length === 0) {
        next = {
          ...input,
          labels: dropEmpty(input.labels),
          target: { ...input.target, annotations: dropEmpty(input.target.annotations) },
          createdAt: current.createdAt,
          updatedAt: current.updatedAt,
        };
      }
      for (const path of paths) applyImagePath(next, input, path);
      validateImage(next);
      next.updatedAt = new Date(Math.max(Date.now(), current.updatedAt.getTime()));
      this.table.update(ns, next);
      const event = this.events.record({
        namespace: ns,
        topic: "/images/update",
        event: eventAny(ImageUpdateSchema, { name: next.name, labels: next.labels }),
      });
      return { record: next, event };
    });
    this.events.deliver(event);
    return record;
  }

  /** Removes the image; garbage collection follows, with `sync` before this returns. */
  delete(ns: string, name: string, sync = false): void {
    const e = this.store.transaction(() => {
      if (!this.table.delete(ns, name)) throw notFound(name);
      return this.events.record({
        namespace: ns,
        topic: "/images/delete",
        event: eventAny(ImageDeleteSchema, { name }),
      });
    });
    this.events.deliver(e);
    if (sync) this.gc.collect();
    else this.gc.schedule();
  }
}
