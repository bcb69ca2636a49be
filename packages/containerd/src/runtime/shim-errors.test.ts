import { test } from "node:test";
import assert from "node:assert/strict";
import { ContainerdError, ErrorKind } from "@containerd-ts/errdefs";
import { rebaseShimError, rebasingShimErrors } from "./shim-errors.js";

const message = (e: unknown) => (e as Error).message;

test("shim errors end with the kind's text once, like containerd's FromGRPC", () => {
  const start = new ContainerdError(ErrorKind.Unknown, "cannot start a running process");
  assert.equal(message(rebaseShimError(start)), "cannot start a running process: unknown");
  const gone = new ContainerdError(ErrorKind.NotFound, "process does not exist zz: not found");
  assert.equal(rebaseShimError(gone), gone);
  const late = new ContainerdError(ErrorKind.DeadlineExceeded, "timed out");
  assert.equal(message(rebaseShimError(late)), "timed out: context deadline exceeded");
  assert.equal((rebaseShimError(late) as ContainerdError).kind, ErrorKind.DeadlineExceeded);
  const plain = new Error("socket closed");
  assert.equal(rebaseShimError(plain), plain);
});

test("a rebasing client rejects with rebased errors and passes results through", async () => {
  const client = rebasingShimErrors({
    ok: async (x: number) => x + 1,
    fail: async () => {
      throw new ContainerdError(ErrorKind.FailedPrecondition, "paused");
    },
  });
  assert.equal(await client.ok(1), 2);
  await assert.rejects(client.fail(), /^ContainerdError: paused: failed precondition$/);
});
