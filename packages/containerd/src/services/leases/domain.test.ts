import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorKind, kindOf } from "@containerd-ts/errdefs";
import { EventExchange } from "../../events/index.js";
import { MetadataStore } from "../../store/index.js";
import { NamespaceService } from "../namespaces/domain.js";
import { EXPIRE_LABEL, LeaseService } from "./domain.js";

function setup(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), "ctd-leases-"));
  const store = MetadataStore.openRoot(dir);
  const events = new EventExchange(store, 100);
  const namespaces = new NamespaceService(store, events);
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, namespaces, leases: new LeaseService(store, namespaces) };
}

const kind = (k: ErrorKind) => (e: unknown) => kindOf(e) === k;

test("lease ids: generated when empty, ctr's base64 ids accepted, junk refused", (t) => {
  const { leases, namespaces } = setup(t);
  const gen = leases.create("default", "");
  assert.match(gen.id, /^\d+-[0-9a-f]{12}$/);
  leases.create("default", "478893400-_gs_");
  assert.throws(() => leases.create("default", "a/b"), kind(ErrorKind.InvalidArgument));
  assert.throws(() => leases.create("default", "478893400-_gs_"), kind(ErrorKind.AlreadyExists));
  assert.ok(namespaces.exists("default"), "creating a lease creates its namespace");
  assert.throws(() => namespaces.delete("default"), kind(ErrorKind.FailedPrecondition));
});

test("resources: types as containerd knows them", (t) => {
  const { leases } = setup(t);
  leases.create("ns", "l");
  leases.addResource("ns", "l", { type: "snapshots/overlayfs", id: "key" });
  leases.addResource("ns", "l", { type: "ingests", id: "ref" });
  assert.throws(
    () => leases.addResource("ns", "l", { type: "content", id: "nodigest" }),
    kind(ErrorKind.InvalidArgument),
  );
  assert.throws(
    () => leases.addResource("ns", "l", { type: "snapshots", id: "x" }),
    kind(ErrorKind.InvalidArgument),
  );
  assert.throws(
    () => leases.addResource("ns", "l", { type: "images", id: "x" }),
    kind(ErrorKind.NotImplemented),
  );
  assert.throws(
    () => leases.addResource("ns", "nope", { type: "ingests", id: "x" }),
    kind(ErrorKind.NotFound),
  );
  leases.deleteResource("ns", "l", { type: "ingests", id: "ref" });
  assert.deepEqual(leases.listResources("ns", "l"), [{ type: "snapshots/overlayfs", id: "key" }]);
});

test("expired leases are swept, others kept; filters on id and labels", (t) => {
  const { leases } = setup(t);
  leases.create("ns", "old", { [EXPIRE_LABEL]: "2000-01-01T00:00:00Z" });
  leases.create("ns", "new", { [EXPIRE_LABEL]: "2999-01-01T00:00:00Z", team: "a" });
  leases.create("ns", "forever");
  assert.equal(leases.sweepExpired(new Date("2026-01-01T00:00:00Z")), 1);
  assert.deepEqual(
    leases.list("ns").map((l) => l.id),
    ["forever", "new"],
  );
  assert.deepEqual(
    leases.list("ns", ["labels.team==a"]).map((l) => l.id),
    ["new"],
  );
  assert.deepEqual(
    leases.list("ns", ["id~=^for"]).map((l) => l.id),
    ["forever"],
  );
});
