// Waiting for a freeze to take effect: the kernel reports FREEZING until every task stopped.
import { errUnavailable } from "@containerd-ts/errdefs";
import { sleepSync } from "./fsutil.js";

export interface FreezeSteps {
  request(): void;
  isFrozen(): boolean;
  undo(): void;
}

/**
 * Requests a freeze and polls until it is reported, re-requesting now and then (runc does the
 * same: a task forked mid-freeze can otherwise keep the cgroup FREEZING). Gives up after
 * `timeoutMs`, thawing again so the container is not left half frozen.
 */
export function freezeAndWait(steps: FreezeSteps, timeoutMs: number, what: string): void {
  steps.request();
  const deadline = Date.now() + timeoutMs;
  for (let i = 1; ; i++) {
    if (steps.isFrozen()) return;
    if (Date.now() > deadline) {
      steps.undo();
      throw errUnavailable(`cgroups: ${what} did not freeze within ${timeoutMs} ms`);
    }
    if (i % 25 === 0) steps.request();
    sleepSync(Math.min(10, i));
  }
}
