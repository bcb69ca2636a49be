import {
  errAlreadyExists,
  errFailedPrecondition,
  errInvalidArgument,
  errNotFound,
} from "@containerd-ts/errdefs";
import { checkIdentifier, checkLabels } from "../../identifiers.js";
import {
  NamespaceCreateSchema,
  NamespaceDeleteSchema,
  NamespaceUpdateSchema,
} from "@containerd-ts/gen/containerd/events/namespace_pb.js";
import { eventAny, type EventExchange } from "../../events/index.js";
import type { Labels, MetadataStore, NamespaceRecord } from "../../store/index.js";
import { applyLabelPaths, dropEmpty } from "../../store/labels.js";

/** Namespaces as containerd manages them; every change publishes its event. */
export class NamespaceService {
  constructor(
    private readonly store: MetadataStore,
    private readonly events: EventExchange,
  ) {}

  /** containerd answers Get of an unknown namespace with just the name and no labels. */
  get(name: string): NamespaceRecord {
    return this.store.namespaces.get(name) ?? { name, labels: {} };
  }

  exists(name: string): boolean {
    return this.store.namespaces.get(name) !== undefined;
  }

  list(): NamespaceRecord[] {
    return this.store.namespaces.list();
  }

  /**
   * `eventNamespace` is the envelope namespace of the /namespaces/create event: containerd
   * publishes it in the caller's namespace (ctr's -n), not in the one created.
   */
  create(name: string, labels: Labels = {}, eventNamespace = name): NamespaceRecord {
    checkIdentifier(name);
    checkLabels(labels);
    const clean = dropEmpty(labels);
    const e = this.store.transaction(() => {
      if (!this.store.namespaces.insert(name, clean)) {
        throw errAlreadyExists(`namespace "${name}": already exists`);
      }
      return this.events.record({
        namespace: eventNamespace,
        topic: "/namespaces/create",
        event: eventAny(NamespaceCreateSchema, { name, labels: clean }),
      });
    });
    this.events.deliver(e);
    return { name, labels: clean };
  }

  /**
   * Updates labels. With paths, only `labels` or `labels.<key>` may be named (an
   * empty value removes the key); without paths, the labels are replaced. Like
   * containerd, updating an unknown namespace creates it.
   */
  update(
    name: string,
    labels: Labels,
    paths: readonly string[] = [],
    /** as for create: the caller's namespace */
    eventNamespace = name,
  ): NamespaceRecord {
    checkIdentifier(name);
    checkLabels(labels);
    for (const p of paths) {
      if (p !== "labels" && !p.startsWith("labels.")) {
        throw errInvalidArgument(`cannot update "${p}" field`);
      }
    }
    const { record, event } = this.store.transaction(() => {
      this.store.namespaces.insert(name);
      const current = this.store.namespaces.get(name)!.labels;
      const next = paths.length === 0 ? dropEmpty(labels) : applyLabelPaths(current, labels, paths);
      this.store.namespaces.setLabels(name, next);
      const event = this.events.record({
        namespace: eventNamespace,
        topic: "/namespaces/update",
        event: eventAny(NamespaceUpdateSchema, { name, labels }),
      });
      return { record: { name, labels: next }, event };
    });
    this.events.deliver(event);
    return record;
  }

  /** Refused (FailedPrecondition) while the namespace still holds containers or leases. */
  delete(name: string): void {
    checkIdentifier(name);
    const e = this.store.transaction(() => {
      if (!this.store.namespaces.get(name)) throw errNotFound(`namespace "${name}": not found`);
      const contents = this.store.namespaces.contents(name);
      const busy = Object.entries(contents)
        .filter(([, n]) => n > 0)
        .map(([kind]) => kind);
      if (busy.length > 0) {
        throw errFailedPrecondition(
          `namespace "${name}" must be empty, but it still has ${busy.join(", ")}: failed precondition`,
        );
      }
      this.store.namespaces.delete(name);
      return this.events.record({
        namespace: name,
        topic: "/namespaces/delete",
        event: eventAny(NamespaceDeleteSchema, { name }),
      });
    });
    this.events.deliver(e);
  }

  /** Creates the namespace if needed, silently; call inside a store transaction. */
  ensure(name: string): void {
    this.store.namespaces.insert(name);
  }
}
