const NAMES = ["UNKNOWN", "CREATED", "RUNNING", "STOPPED", "PAUSED", "PAUSING"];

/** containerd.v1.types.Status as ctr prints it. */
export function statusName(status: number): string {
  return NAMES[status] ?? "UNKNOWN";
}
