import {
  EXEC_TRANSITIONS,
  INIT_TRANSITIONS,
  nextState,
  type Operation,
  type ProcessState,
  type TransitionTable,
} from "./lifecycle.js";
import type { ProcessIO } from "./process-io.js";
import type { ExitInfo } from "./reaper.js";
import type { StdioPaths } from "./stdio.js";

/**
 * A container's init or exec'd process as the shim tracks it: lifecycle state, pid, exit,
 * stdio, and the promise Wait callers hold (settled once the exit event was forwarded).
 */
export class ShimProcess {
  pid = 0;
  state: ProcessState = "created";
  exitStatus = 0;
  exitedAt: Date | undefined;
  io: ProcessIO | undefined;
  /** CloseIO was asked for (applied to stdio set up later, too) */
  stdinClosed = false;
  /** set while a pause is in flight (State reports PAUSING) */
  pausing = false;
  /** a Start is in flight: an exit seen now is applied after the start event */
  starting = false;
  deferredExit: ExitInfo | undefined;
  /** exec only: the OCI process spec to run */
  spec: Record<string, unknown> | undefined;
  readonly waited: Promise<void>;
  private release!: () => void;
  private readonly table: TransitionTable;

  constructor(
    /** the container id for init, the exec id for an exec */
    readonly id: string,
    /** "" for init */
    readonly execId: string,
    readonly stdio: StdioPaths,
  ) {
    this.table = execId === "" ? INIT_TRANSITIONS : EXEC_TRANSITIONS;
    this.waited = new Promise((r) => (this.release = r));
  }

  get isInit(): boolean {
    return this.execId === "";
  }

  /** Refuses `op` now with a typed error if the table forbids it. */
  check(op: Operation): ProcessState {
    return nextState(this.table, this.state, op);
  }

  transition(op: Operation): void {
    this.state = nextState(this.table, this.state, op);
  }

  get hasExited(): boolean {
    return this.exitedAt !== undefined;
  }

  /** Records the exit (once) and moves to stopped. Returns false if it was already known. */
  setExited(e: ExitInfo): boolean {
    if (this.exitedAt !== undefined || this.state === "deleted") return false;
    this.exitStatus = e.status;
    this.exitedAt = e.exitedAt;
    this.transition("exit");
    return true;
  }

  /** CloseIO: the shim's stdin writer goes, so the process reads EOF once the client closes. */
  closeStdin(): void {
    this.stdinClosed = true;
    this.io?.closeStdin();
  }

  /** Lets Wait callers through. */
  releaseWaiters(): void {
    this.release();
  }
}
