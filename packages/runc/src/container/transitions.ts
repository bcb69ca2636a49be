import { errFailedPrecondition } from "@containerd-ts/errdefs/errors.js";
import type { Status } from "./state.js";

/** What a command does to a container, for the transition table. */
export type Operation = "start" | "pause" | "resume" | "kill" | "exec" | "update" | "delete";

/**
 * runc's lifecycle as a table: the statuses each operation accepts, and runc's refusal
 * message for every other one. `delete --force` and `kill --all` bypass it (runc does too).
 */
const ALLOWED: Record<Operation, readonly Status[]> = {
  start: ["created"],
  pause: ["created", "running"],
  resume: ["paused"],
  kill: ["created", "running", "paused"],
  exec: ["created", "running"],
  update: ["created", "running", "paused"],
  delete: ["created", "stopped"],
};

function refusal(op: Operation, status: Status, id: string): string {
  switch (op) {
    case "start":
      if (status === "stopped") return "cannot start a container that has stopped";
      if (status === "running") return "cannot start an already running container";
      return `cannot start a container in the ${status} state`;
    case "resume":
      return "container not paused";
    case "exec":
      return status === "paused"
        ? "cannot exec in a paused state"
        : "cannot exec in a stopped container";
    case "delete":
      return `cannot delete container ${id} that is not stopped: ${status}`;
    default:
      return "container not running";
  }
}

export function canDo(op: Operation, status: Status): boolean {
  return ALLOWED[op].includes(status);
}

/** Throws FailedPrecondition with runc's message when `op` is illegal in `status`. */
export function assertCan(op: Operation, status: Status, id: string): void {
  if (!canDo(op, status)) throw errFailedPrecondition(refusal(op, status, id));
}
