import { errInvalidArgument } from "@containerd-ts/errdefs/errors.js";
import { CAPABILITIES } from "@containerd-ts/sys/constants.js";

export function capabilityNamesValid(caps: readonly string[]): void {
  for (const c of caps)
    if (!(c in CAPABILITIES)) throw errInvalidArgument(`unknown capability ${JSON.stringify(c)}`);
}
