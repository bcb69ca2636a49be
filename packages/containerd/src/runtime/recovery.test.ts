import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import { DeleteResponseSchema } from "@containerd-ts/gen/containerd/task/v2/shim_pb.js";
import { RuntimeManager } from "./manager.js";
import { recoverTasks } from "./recovery.js";

/** A bundle as a shim leaves it: address, shim-binary-path, config.json. */
function fakeBundle(state: string, ns: string, id: string, address: string, shim: string): string {
  const b = join(state, "io.containerd.runtime.v2.task", ns, id);
  mkdirSync(join(b, "rootfs"), { recursive: true });
  writeFileSync(join(b, "config.json"), "{}");
  writeFileSync(join(b, "address"), address);
  writeFileSync(join(b, "shim-binary-path"), shim);
  return b;
}

test(
  "recovery: a wedged shim and a vanished one are cleaned up, each Connect under its deadline",
  { timeout: 30_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "ctd-ts-recover-"));
    // a "shim" that accepts connections and never answers
    const wedged = createServer(() => {});
    const wedgedPath = join(dir, "wedged.sock");
    await new Promise<void>((r) => wedged.listen(wedgedPath, r));
    try {
      const resp = toBinary(
        DeleteResponseSchema,
        create(DeleteResponseSchema, { pid: 77, exitStatus: 137 }),
      );
      writeFileSync(join(dir, "resp.bin"), resp);
      const shim = join(dir, "fake-shim");
      writeFileSync(shim, `#!/bin/sh\ncat "${join(dir, "resp.bin")}"\n`);
      chmodSync(shim, 0o755);
      const state = join(dir, "state");
      const b1 = fakeBundle(state, "ns1", "wedged", `unix://${wedgedPath}`, shim);
      const b2 = fakeBundle(state, "ns1", "gone", `unix://${join(dir, "nobody.sock")}`, shim);
      mkdirSync(join(state, "io.containerd.runtime.v2.task", "ns1", ".being-deleted"));
      const published: { ns: string; topic: string; event: Any }[] = [];
      const manager = new RuntimeManager({
        root: join(dir, "root"),
        state,
        address: join(dir, "c.sock"),
        events: { publish: async (ns, topic, event) => void published.push({ ns, topic, event }) },
      });
      // the wedged shim holds its Connect until that call's 5 s deadline: the overall
      // deadline returns first and reports it as still being recovered in the background
      const report = await recoverTasks(manager, { deadlineMs: 2000, concurrency: 2 });
      assert.deepEqual(report.reconnected, []);
      assert.deepEqual(report.cleaned, ["ns1/gone"]);
      assert.deepEqual(report.skipped, ["ns1/wedged"]);
      for (let i = 0; i < 300 && report.cleaned.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual([...report.cleaned].sort(), ["ns1/gone", "ns1/wedged"]);
      assert.ok(!existsSync(b1) && !existsSync(b2));
      assert.deepEqual(
        published.map((p) => p.topic),
        ["/tasks/exit", "/tasks/delete", "/tasks/exit", "/tasks/delete"],
      );
      manager.close();
    } finally {
      wedged.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
