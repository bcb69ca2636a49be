import type { Any, Timestamp } from "@bufbuild/protobuf/wkt";

/** Records as the metadata store keeps them; services convert them to proto messages. */
export type Labels = Record<string, string>;

export interface NamespaceRecord {
  name: string;
  labels: Labels;
}

export interface ContainerRecord {
  id: string;
  labels: Labels;
  image: string;
  runtime: { name: string; options?: Any };
  /** Kept as the exact Any bytes the client sent (an OCI spec as JSON, usually). */
  spec?: Any;
  snapshotter: string;
  snapshotKey: string;
  createdAt: Date;
  updatedAt: Date;
  extensions: Record<string, Any>;
  /** containerd 1.7's sandbox id; "" when unset. */
  sandbox: string;
}

export interface LeaseRecord {
  id: string;
  createdAt: Date;
  labels: Labels;
}

export interface LeaseResource {
  id: string;
  type: string;
}

/** An event envelope as it was stored, with its position in the history. */
export interface StoredEvent {
  seq: number;
  timestamp: Timestamp;
  namespace: string;
  topic: string;
  event: Any;
}
