import { writeSync } from "node:fs";

const on = process.env.RUNC_TS_TRACE === "1";

/** RUNC_TS_TRACE=1: milestones with ms since this process started, on stderr (perf work). */
export function trace(label: string): void {
  if (on) writeSync(2, `[runc-ts ${process.pid} ${performance.now().toFixed(1)}ms] ${label}\n`);
}
