import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { EventExchange } from "../../events/index.js";
import { MetadataStore } from "../../store/index.js";
import { LeaseService } from "../leases/domain.js";
import { NamespaceService } from "../namespaces/domain.js";
import { ContentService } from "./domain.js";

/** A store, event exchange and namespaces on a temp root, removed after the test. */
export function metadataFixture(
  t: { after(fn: () => void | Promise<void>): void },
  prefix: string,
) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const store = MetadataStore.openRoot(dir);
  const events = new EventExchange(store, 1000);
  const namespaces = new NamespaceService(store, events);
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, store, events, namespaces };
}

/** metadataFixture plus leases and the content service. */
export function contentFixture(t: { after(fn: () => void | Promise<void>): void }) {
  const fx = metadataFixture(t, "ctd-content-");
  const leases = new LeaseService(fx.store, fx.namespaces);
  const content = new ContentService(fx.store, fx.events, fx.namespaces, join(fx.dir, "content"));
  return { ...fx, leases, content };
}

/** assert.rejects/throws predicate for an error kind. */
export const kind = (k: ErrorKind) => (e: unknown) => kindOf(e) === k;

/** Writes a whole blob through the namespaced writer and commits it. */
export async function putBlob(
  content: ContentService,
  ns: string,
  data: string,
  opts: { ref?: string; labels?: Record<string, string>; lease?: string } = {},
): Promise<void> {
  const w = await content.writer(ns, { ref: opts.ref ?? `ref-${data}`, lease: opts.lease });
  try {
    await w.write(Buffer.from(data));
    await w.commit(Buffer.byteLength(data), "", opts.labels);
  } finally {
    await w.close();
  }
}
