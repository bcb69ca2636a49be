import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import { errInvalidArgument } from "@containerd-ts/errdefs/errors.js";
import { OptionsSchema, type Options } from "@containerd-ts/gen/containerd/runc/v1/options_pb.js";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const RUNC_OPTIONS_TYPE_URL = "containerd.runc.v1.Options";

/** Type URLs the runc shim accepts for its options (bare, or with the Go registry prefix). */
function isRuncOptions(typeUrl: string): boolean {
  return typeUrl === RUNC_OPTIONS_TYPE_URL || typeUrl.endsWith("/" + RUNC_OPTIONS_TYPE_URL);
}

/** Decodes the runtime options carried in an Any; an absent or empty Any gives the defaults. */
export function decodeOptions(any: Any | undefined): Options {
  if (!any || any.typeUrl === "") return create(OptionsSchema);
  if (!isRuncOptions(any.typeUrl)) {
    throw errInvalidArgument(`unsupported runtime options type ${JSON.stringify(any.typeUrl)}`);
  }
  try {
    return fromBinary(OptionsSchema, any.value);
  } catch (e) {
    throw errInvalidArgument(`invalid runtime options: ${(e as Error).message}`);
  }
}

// options.json keeps the Go field tags of the runc shim's Options struct (omitempty).
const JSON_NAMES: ReadonlyArray<[keyof MessageInitShape<typeof OptionsSchema>, string]> = [
  ["noPivotRoot", "no_pivot_root"],
  ["noNewKeyring", "no_new_keyring"],
  ["shimCgroup", "shim_cgroup"],
  ["ioUid", "io_uid"],
  ["ioGid", "io_gid"],
  ["binaryName", "binary_name"],
  ["root", "root"],
  ["criuPath", "criu_path"],
  ["systemdCgroup", "systemd_cgroup"],
  ["criuImagePath", "criu_image_path"],
  ["criuWorkPath", "criu_work_path"],
];

export function optionsToJson(o: Options): string {
  const out: Record<string, unknown> = {};
  for (const [field, name] of JSON_NAMES) {
    const v = o[field as keyof Options];
    if (v !== "" && v !== 0 && v !== false && v !== undefined) out[name] = v;
  }
  return JSON.stringify(out);
}

export function optionsFromJson(text: string): Options {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const init: Record<string, unknown> = {};
  for (const [field, name] of JSON_NAMES) if (raw[name] !== undefined) init[field] = raw[name];
  return create(OptionsSchema, init as MessageInitShape<typeof OptionsSchema>);
}

/** Writes `options.json` and `runtime` into the bundle, as the runc shim does on Create. */
export function writeBundleOptions(bundle: string, o: Options): void {
  writeFileSync(join(bundle, "options.json"), optionsToJson(o), { mode: 0o600 });
  writeFileSync(join(bundle, "runtime"), o.binaryName, { mode: 0o600 });
}

/** Reads them back (the delete action); missing files give defaults. */
export function readBundleOptions(bundle: string): Options {
  let o: Options;
  try {
    o = optionsFromJson(readFileSync(join(bundle, "options.json"), "utf8"));
  } catch {
    o = create(OptionsSchema);
  }
  try {
    const runtime = readFileSync(join(bundle, "runtime"), "utf8");
    if (runtime) o.binaryName = runtime;
  } catch {
    // no runtime file: keep what options.json said
  }
  return o;
}
