import { errInvalidArgument } from "@containerd-ts/errdefs/errors.js";

/**
 * A minimal protobuf wire reader for the one thing `start` needs from its stdin — the
 * ShimCgroup of the runc Options inside an Any — so the start path (run for every container)
 * does not load a protobuf runtime.
 */
function* fields(buf: Uint8Array): Generator<{ field: number; wire: number; bytes?: Uint8Array }> {
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length) throw errInvalidArgument("truncated protobuf");
      const b = buf[i++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
      if (shift > 63) throw errInvalidArgument("bad varint");
    }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const n = varint();
      if (i + n > buf.length) throw errInvalidArgument("truncated protobuf");
      yield { field, wire, bytes: buf.subarray(i, i + n) };
      i += n;
      continue;
    } else throw errInvalidArgument(`unsupported wire type ${wire}`);
    if (i > buf.length) throw errInvalidArgument("truncated protobuf");
    yield { field, wire };
  }
}

const OPTIONS_TYPE = "containerd.runc.v1.Options";

/** Options.shim_cgroup (field 3) from the bytes of an Any holding containerd.runc.v1.Options. */
export function shimCgroupFromOptionsAny(any: Uint8Array): string {
  let typeUrl = "";
  let value: Uint8Array = new Uint8Array();
  for (const f of fields(any)) {
    if (f.field === 1 && f.bytes) typeUrl = Buffer.from(f.bytes).toString("utf8");
    if (f.field === 2 && f.bytes) value = f.bytes;
  }
  if (typeUrl === "") return "";
  if (typeUrl !== OPTIONS_TYPE && !typeUrl.endsWith("/" + OPTIONS_TYPE)) {
    throw errInvalidArgument(`unsupported runtime options type ${JSON.stringify(typeUrl)}`);
  }
  let cgroup = "";
  for (const f of fields(value))
    if (f.field === 3 && f.bytes) cgroup = Buffer.from(f.bytes).toString("utf8");
  return cgroup;
}
