import type Database from "better-sqlite3";
import { decodeLabels, encodeLabels } from "./codec.js";
import { NamespacedTable } from "./namespaced-table.js";
import type { Labels } from "./types.js";

/** An OCI descriptor as an image's target. */
export interface DescriptorRecord {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Labels;
}

export interface ImageRecord {
  name: string;
  labels: Labels;
  target: DescriptorRecord;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  name: string;
  labels: string;
  target_media_type: string;
  target_digest: string;
  target_size: number;
  target_annotations: string;
  created_at: number;
  updated_at: number;
}

const COLUMNS = [
  "name",
  "labels",
  "target_media_type",
  "target_digest",
  "target_size",
  "target_annotations",
  "created_at",
  "updated_at",
];

const toRecord = (r: Row): ImageRecord => ({
  name: r.name,
  labels: decodeLabels(r.labels),
  target: {
    mediaType: r.target_media_type,
    digest: r.target_digest,
    size: r.target_size,
    annotations: decodeLabels(r.target_annotations),
  },
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

const toParams = (i: ImageRecord) => ({
  name: i.name,
  labels: encodeLabels(i.labels),
  target_media_type: i.target.mediaType,
  target_digest: i.target.digest,
  target_size: i.target.size,
  target_annotations: encodeLabels(i.target.annotations),
  created_at: i.createdAt.getTime(),
  updated_at: i.updatedAt.getTime(),
});

/** The images table, keyed by (namespace, name). */
export class ImageTable extends NamespacedTable<ImageRecord, Row> {
  constructor(db: Database.Database) {
    super(db, { table: "images", key: "name", columns: COLUMNS, toRecord, toParams });
  }
}
