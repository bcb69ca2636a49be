import { createRequire } from "node:module";
import type { Socket } from "node:net";

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
const UCRED_SIZE = 12; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }

type Ffi = typeof import("ffi-rs");
let ffi: Ffi | undefined;

/** ffi-rs is loaded only when a server asks for peer checks, so plain clients never load native code. */
function libc(): Ffi {
  if (!ffi) {
    ffi = createRequire(import.meta.url)("ffi-rs") as Ffi;
    ffi.open({ library: "libc", path: "libc.so.6" });
  }
  return ffi;
}

function socketFd(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== "number" || fd < 0) throw new Error("socket has no file descriptor");
  return fd;
}

/** SO_PEERCRED of a connected unix socket: who is on the other end. */
export function getPeerCredentials(socket: Socket): PeerCredentials {
  const f = libc();
  const { DataType } = f;
  const malloc = (n: number) =>
    f.load({
      library: "libc",
      funcName: "malloc",
      retType: DataType.External,
      paramsType: [DataType.I64],
      paramsValue: [n],
    });
  const free = (p: unknown) =>
    f.load({
      library: "libc",
      funcName: "free",
      retType: DataType.Void,
      paramsType: [DataType.External],
      paramsValue: [p],
    });
  const value = malloc(UCRED_SIZE);
  const length = malloc(4);
  try {
    f.createExternalBuffer(length, 4).writeUInt32LE(UCRED_SIZE, 0);
    const res = f.load({
      library: "libc",
      funcName: "getsockopt",
      retType: DataType.I32,
      paramsType: [DataType.I32, DataType.I32, DataType.I32, DataType.External, DataType.External],
      paramsValue: [socketFd(socket), SOL_SOCKET, SO_PEERCRED, value, length],
      errno: true,
    }) as { value: number; errnoMessage: string };
    if (res.value !== 0) throw new Error(`getsockopt(SO_PEERCRED): ${res.errnoMessage}`);
    const b = f.createExternalBuffer(value, UCRED_SIZE);
    return { pid: b.readInt32LE(0), uid: b.readUInt32LE(4), gid: b.readUInt32LE(8) };
  } finally {
    free(value);
    free(length);
  }
}
