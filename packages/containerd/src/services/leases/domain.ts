import { randomBytes } from "node:crypto";
import {
  errAlreadyExists,
  errInvalidArgument,
  errNotFound,
  errNotImplemented,
  validateIdentifier,
  validateLabels,
} from "@containerd-ts/errdefs";
import { mapField, nonEmpty, parseStoreFilters, type Adaptor } from "../../filters/index.js";
import {
  dropEmpty,
  type Labels,
  type LeaseRecord,
  type LeaseResource,
  type MetadataStore,
} from "../../store/index.js";
import type { NamespaceService } from "../namespaces/domain.js";

/** The label containerd's garbage collector reads as a lease's expiry (RFC 3339). */
export const EXPIRE_LABEL = "containerd.io/gc.expire";

export function leaseAdaptor(l: LeaseRecord): Adaptor {
  return ([head, ...rest]) => {
    if (head === "id") return nonEmpty(l.id);
    if (head === "labels") return mapField(rest, l.labels);
    return undefined;
  };
}

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** go-digest's available algorithms and their hex lengths. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** go-digest's Parse: why `s` is not a digest, in its words, or undefined when it is one. */
function digestProblem(s: string): string | undefined {
  const i = s.indexOf(":");
  if (i <= 0 || i + 1 === s.length) return "invalid checksum digest format";
  const length = DIGEST_HEX_LENGTH[s.slice(0, i)];
  if (length === undefined) {
    return DIGEST.test(s) ? "unsupported digest algorithm" : "invalid checksum digest format";
  }
  const encoded = s.slice(i + 1);
  if (encoded.length !== length) return "invalid checksum digest length";
  return /^[a-f0-9]+$/.test(encoded) ? undefined : "invalid checksum digest format";
}

/** containerd's resource types: content (a digest), ingests, snapshots/<snapshotter>. */
function validateResource(r: LeaseResource): LeaseResource {
  const invalid = (msg: string) => errInvalidArgument(`${msg}: invalid argument`);
  const parts = r.type.split("/");
  switch (parts[0]) {
    case "content":
    case "ingests": {
      if (parts.length !== 1) throw invalid(`invalid resource type ${r.type}`);
      const problem = parts[0] === "content" ? digestProblem(r.id) : undefined;
      if (problem) throw invalid(`invalid content resource id ${r.id}: ${problem}`);
      break;
    }
    case "snapshots":
      if (parts.length !== 2 || parts[1] === "") {
        throw invalid(`invalid snapshot resource type ${r.type}`);
      }
      break;
    default:
      throw errNotImplemented(`resource type ${r.type} not supported yet: not implemented`);
  }
  if (r.id === "") throw errInvalidArgument("resource id must not be empty");
  return r;
}

/**
 * Lease ids are not identifiers in containerd: ctr makes them from a number and URL-safe
 * base64 ("478893400-_gs_"), so only empty, oversized or control-character ids are refused.
 */
export function validateLeaseId(id: string): string {
  if (id === "") throw errInvalidArgument("lease.id must not be empty");
  if (id.length > 256)
    throw errInvalidArgument("lease.id greater than maximum length (256 characters)");
  const bad = [...id].some(
    (ch) => ch === "/" || ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f,
  );
  if (bad) throw errInvalidArgument(`lease.id ${JSON.stringify(id)} contains invalid characters`);
  return id;
}

/** A lease's expiry from its gc.expire label, if it has a valid one. */
export function leaseExpiry(l: Pick<LeaseRecord, "labels">): Date | undefined {
  const v = l.labels[EXPIRE_LABEL];
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Leases keep resources alive; kept in SQLite, expired ones removed by sweepExpired(). */
export class LeaseService {
  constructor(
    private readonly store: MetadataStore,
    private readonly namespaces: NamespaceService,
  ) {}

  /** Creates a lease; an empty id gets a generated one (as containerd's WithRandomID). */
  create(ns: string, id: string, labels: Labels = {}): LeaseRecord {
    validateIdentifier(ns, "namespace");
    const leaseId = id === "" ? generateLeaseId() : validateLeaseId(id);
    validateLabels(labels, "lease.labels");
    const record: LeaseRecord = { id: leaseId, labels: dropEmpty(labels), createdAt: new Date() };
    this.store.transaction(() => {
      this.namespaces.ensure(ns);
      if (!this.store.leases.insert(ns, leaseId, record.labels, record.createdAt)) {
        throw errAlreadyExists(`lease "${leaseId}": already exists`);
      }
    });
    return record;
  }

  get(ns: string, id: string): LeaseRecord {
    const l = this.store.leases.get(ns, id);
    if (!l) throw errNotFound(`lease "${id}": not found`);
    return l;
  }

  delete(ns: string, id: string): void {
    this.store.transaction(() => {
      if (!this.store.leases.delete(ns, id)) throw errNotFound(`lease "${id}": not found`);
    });
  }

  list(ns: string, filters: readonly string[] = []): LeaseRecord[] {
    const f = parseStoreFilters(filters);
    return this.store.leases.list(ns).filter((l) => f.match(leaseAdaptor(l)));
  }

  addResource(ns: string, leaseId: string, r: LeaseResource): void {
    validateResource(r);
    this.store.transaction(() => {
      this.get(ns, leaseId);
      this.store.leases.addResource(ns, leaseId, r);
    });
  }

  deleteResource(ns: string, leaseId: string, r: LeaseResource): void {
    validateResource(r);
    this.store.transaction(() => {
      this.get(ns, leaseId);
      this.store.leases.deleteResource(ns, leaseId, r);
    });
  }

  listResources(ns: string, leaseId: string): LeaseResource[] {
    this.get(ns, leaseId);
    return this.store.leases.resources(ns, leaseId);
  }

  /** Deletes leases whose gc.expire time has passed; returns how many. */
  sweepExpired(now = new Date()): number {
    const expired = this.store.leases.listAll().filter((l) => {
      const at = leaseExpiry(l);
      return at !== undefined && at.getTime() <= now.getTime();
    });
    this.store.transaction(() => {
      for (const l of expired) this.store.leases.delete(l.namespace, l.id);
    });
    return expired.length;
  }
}

/** Time-ordered and unique, and a valid identifier (containerd's random ids may not be). */
function generateLeaseId(): string {
  return `${Date.now()}-${randomBytes(6).toString("hex")}`;
}
