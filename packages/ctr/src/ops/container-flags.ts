import { resolve } from "node:path";
import { parseKeyValues } from "../labels.js";
import { parseMountFlag } from "../spec/oci.js";
import type { NewContainer } from "./containers.js";

export interface ContainerFlagValues {
  rootfs: string;
  label?: string[];
  env?: string[];
  cwd?: string;
  runtime: string;
  "runc-binary"?: string;
  mount?: string[];
  "read-only"?: boolean;
  tty?: boolean;
}

/** The flags of `containers create`/`run` as the container to create. */
export function containerRecordFromFlags(
  id: string,
  f: ContainerFlagValues,
  command: string[],
): NewContainer {
  return {
    id,
    rootfs: resolve(f.rootfs),
    args: command,
    env: f.env,
    cwd: f.cwd,
    labels: parseKeyValues(f.label ?? []),
    runtime: f.runtime,
    runcBinary: f["runc-binary"],
    mounts: (f.mount ?? []).map(parseMountFlag),
    readonlyRootfs: f["read-only"],
    terminal: f.tty,
  };
}
