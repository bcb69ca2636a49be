import type { HookState } from "../container/hooks.js";
import type { Hook } from "../spec/types.js";
import type { InitStep } from "./plan.js";

/** The first message of a sync channel: what the child is to do. */
export interface PlanMessage {
  type: "plan";
  /** init: the container's pid 1 (closes the channel once ready); exec: an extra process */
  mode: "init" | "exec";
  steps: InitStep[];
  extraFds: number[];
  cgroupProcsFiles: string[];
  cgroupPaths: Record<string, string>;
  cgroupVersion: 1 | 2;
  hooks: { createContainer?: Hook[]; startContainer?: Hook[] };
  hookState: HookState;
}

/** argv of the child: `<node> [node options] <entry> init --sync-fd N [--console-fd M]` */
export const INIT_COMMAND = "init";
