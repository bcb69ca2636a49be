import { errFailedPrecondition, errNotFound } from "@containerd-ts/errdefs/errors.js";

/**
 * Process lifecycle as a transition table (containerd's pkg/process init/exec states).
 * Every operation on a process first asks the table; an illegal move is refused before any
 * runtime call is made.
 */
export type ProcessState = "created" | "running" | "paused" | "stopped" | "deleted";

export type Operation =
  | "start"
  | "pause"
  | "resume"
  | "exit"
  | "delete"
  | "kill"
  | "exec"
  | "update"
  | "checkpoint"
  | "resize";

/** `true`: allowed, state unchanged; a state: allowed, moves there. Absent: refused. */
type Row = Partial<Record<Operation, ProcessState | true>>;
export type TransitionTable = Readonly<Record<ProcessState, Row>>;

export const INIT_TRANSITIONS: TransitionTable = {
  created: {
    start: "running",
    exit: "stopped",
    delete: "deleted",
    kill: true,
    exec: true,
    update: true,
    resize: true,
  },
  running: {
    pause: "paused",
    exit: "stopped",
    kill: true,
    exec: true,
    update: true,
    checkpoint: true,
    resize: true,
  },
  paused: {
    resume: "running",
    exit: "stopped",
    kill: true,
    update: true,
    checkpoint: true,
    resize: true,
  },
  // the init's console may be resized in any state (containerd's Init.Resize has no state check)
  stopped: { delete: "deleted", kill: true, exit: true, resize: true },
  deleted: { exit: true, resize: true },
};

export const EXEC_TRANSITIONS: TransitionTable = {
  created: { start: "running", exit: "stopped", delete: "deleted", kill: true, resize: true },
  running: { exit: "stopped", kill: true, resize: true },
  paused: { exit: "stopped", kill: true },
  stopped: { delete: "deleted", kill: true, exit: true },
  deleted: { exit: true },
};

/**
 * The state after `op`, or a typed error: NotFound for delete/kill of a deleted process (as
 * containerd reports it), FailedPrecondition for every other illegal move.
 */
export function nextState(
  table: TransitionTable,
  state: ProcessState,
  op: Operation,
): ProcessState {
  const to = table[state][op];
  if (to === true) return state;
  if (to !== undefined) return to;
  if (state === "deleted" && (op === "delete" || op === "kill")) {
    throw errNotFound(`cannot ${op} a deleted process`);
  }
  throw errFailedPrecondition(`cannot ${op} a ${state} process`);
}

/** Throws like nextState when `op` is not allowed now. */
export function assertAllowed(table: TransitionTable, state: ProcessState, op: Operation): void {
  nextState(table, state, op);
}
