import type { Any } from "@bufbuild/protobuf/wkt";
import {
  errAlreadyExists,
  errInvalidArgument,
  errNotFound,
  validateIdentifier,
} from "@containerd-ts/errdefs";
import { checkIdentifier, checkLabels } from "../../identifiers.js";
import {
  ContainerCreateSchema,
  ContainerDeleteSchema,
  ContainerUpdateSchema,
} from "@containerd-ts/gen/containerd/events/container_pb.js";
import { eventAny, type EventExchange } from "../../events/index.js";
import { mapField, nonEmpty, parseStoreFilters, type Adaptor } from "../../filters/index.js";
import {
  applyLabelPaths,
  dropEmpty,
  type ContainerRecord,
  type MetadataStore,
} from "../../store/index.js";
import type { NamespaceService } from "../namespaces/domain.js";

/** What a client supplies; timestamps are the store's. */
export type ContainerInput = Omit<ContainerRecord, "createdAt" | "updatedAt">;

/** containerd's container filter fields: id, image, runtime.name, labels.<key>. */
export function containerAdaptor(c: ContainerRecord): Adaptor {
  return ([head, ...rest]) => {
    switch (head) {
      case "id":
        return nonEmpty(c.id);
      case "image":
        return nonEmpty(c.image);
      case "runtime":
        return rest.length === 1 && rest[0] === "name" ? nonEmpty(c.runtime.name) : undefined;
      case "labels":
        return mapField(rest, c.labels);
    }
    return undefined;
  };
}

/** Field-mask paths containerd accepts on container update (runtime and snapshotter are immutable). */
const UPDATABLE = new Set(["labels", "spec", "extensions", "image", "snapshotkey"]);
const PATH_ALIASES: Record<string, string> = {
  snapshot_key: "snapshotkey",
  snapshotKey: "snapshotkey",
};

/** containerd's validateContainer, with its wording; `context` names the operation. */
function validateContainer(c: ContainerInput, context: string): void {
  const invalid = (msg: string) => errInvalidArgument(`${context}${msg}: invalid argument`);
  checkIdentifier(c.id, `${context}container.ID: `);
  for (const k of Object.keys(c.extensions)) {
    if (k === "") throw invalid("container.Extension keys must not be zero-length");
  }
  checkLabels(c.labels, `${context}containers.Labels: `);
  if (!c.runtime.name) throw invalid("container.Runtime.Name must be set");
  if (!c.spec) throw invalid("container.Spec must be set");
  if (c.snapshotKey !== "" && c.snapshotter === "") {
    throw invalid("container.Snapshotter must be set if container.SnapshotKey is set");
  }
}

const notFound = (ns: string, id: string) =>
  errNotFound(`container "${id}" in namespace "${ns}": not found`);

/** Containers as containerd's metadata store keeps them; changes publish /containers/* events. */
export class ContainerService {
  constructor(
    private readonly store: MetadataStore,
    private readonly events: EventExchange,
    private readonly namespaces: NamespaceService,
  ) {}

  get(ns: string, id: string): ContainerRecord {
    const c = this.store.containers.get(ns, id);
    if (!c) throw notFound(ns, id);
    return c;
  }

  list(ns: string, filters: readonly string[] = []): ContainerRecord[] {
    const f = parseStoreFilters(filters);
    return this.store.containers.list(ns).filter((c) => f.match(containerAdaptor(c)));
  }

  create(ns: string, input: ContainerInput): ContainerRecord {
    validateIdentifier(ns, "namespace");
    validateContainer(input, "create container failed validation: ");
    const now = new Date();
    const record: ContainerRecord = {
      ...input,
      labels: dropEmpty(input.labels),
      createdAt: now,
      updatedAt: now,
    };
    const e = this.store.transaction(() => {
      this.namespaces.ensure(ns);
      if (!this.store.containers.insert(ns, record)) {
        throw errAlreadyExists(`container "${record.id}": already exists`);
      }
      return this.events.record({
        namespace: ns,
        topic: "/containers/create",
        event: eventAny(ContainerCreateSchema, {
          id: record.id,
          image: record.image,
          runtime: { name: record.runtime.name, options: record.runtime.options },
        }),
      });
    });
    this.events.deliver(e);
    return record;
  }

  /**
   * Applies the field-mask paths (labels, labels.<key>, spec, extensions,
   * extensions.<key>, image, snapshotkey) from `input` onto the stored container.
   * Without paths those fields are all replaced and runtime/snapshotter must be unchanged.
   */
  update(ns: string, input: ContainerInput, paths: readonly string[] = []): ContainerRecord {
    validateIdentifier(ns, "namespace");
    if (!input.id) throw errInvalidArgument("Container.ID required");
    checkLabels(input.labels, "update failed validation: containers.Labels: ");
    const { record, event } = this.store.transaction(() => {
      const current = this.store.containers.get(ns, input.id);
      if (!current) throw this.missing(ns, input.id, "update");
      const next = applyContainerPaths(current, input, paths);
      validateContainer(next, "update failed validation: ");
      next.updatedAt = new Date(Math.max(Date.now(), current.updatedAt.getTime()));
      this.store.containers.update(ns, next);
      const event = this.events.record({
        namespace: ns,
        topic: "/containers/update",
        event: eventAny(ContainerUpdateSchema, {
          id: next.id,
          image: next.image,
          labels: next.labels,
          snapshotKey: next.snapshotKey,
        }),
      });
      return { record: next, event };
    });
    this.events.deliver(event);
    return record;
  }

  /**
   * containerd's wording for update/delete of a missing container: it names the namespace
   * only when the namespace holds no containers (its bucket is missing).
   */
  private missing(ns: string, id: string, verb: "update" | "delete"): Error {
    if (this.store.namespaces.contents(ns).containers === 0) {
      return errNotFound(`cannot ${verb} container "${id}" in namespace "${ns}": not found`);
    }
    return errNotFound(
      verb === "update" ? `container "${id}": not found` : `container ${id}: not found`,
    );
  }

  delete(ns: string, id: string): void {
    validateIdentifier(ns, "namespace");
    const e = this.store.transaction(() => {
      if (!this.store.containers.delete(ns, id)) throw this.missing(ns, id, "delete");
      return this.events.record({
        namespace: ns,
        topic: "/containers/delete",
        event: eventAny(ContainerDeleteSchema, { id }),
      });
    });
    this.events.deliver(e);
  }
}

function applyContainerPaths(
  current: ContainerRecord,
  input: ContainerInput,
  paths: readonly string[],
): ContainerRecord {
  const next: ContainerRecord = { ...current, extensions: { ...current.extensions } };
  if (paths.length === 0) {
    if (input.snapshotter !== current.snapshotter) {
      throw errInvalidArgument("container.snapshotter field is immutable");
    }
    if (input.runtime.name !== current.runtime.name) {
      throw errInvalidArgument("container.runtime.name field is immutable");
    }
    paths = [...UPDATABLE];
  }
  for (const raw of paths) {
    const path = PATH_ALIASES[raw] ?? raw;
    if (path === "labels" || path.startsWith("labels.")) {
      next.labels = applyLabelPaths(next.labels, input.labels, [path]);
    } else if (path.startsWith("extensions.")) {
      const key = path.slice("extensions.".length);
      const ext: Any | undefined = input.extensions[key];
      if (ext) next.extensions[key] = ext;
      else delete next.extensions[key];
    } else if (path === "extensions") {
      next.extensions = { ...input.extensions };
    } else if (path === "spec") {
      next.spec = input.spec;
    } else if (path === "image") {
      next.image = input.image;
    } else if (path === "snapshotkey") {
      next.snapshotKey = input.snapshotKey;
    } else {
      throw errInvalidArgument(`cannot update "${raw}" field on "${current.id}"`);
    }
  }
  return next;
}
