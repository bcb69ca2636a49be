import type { Socket } from "node:net";
import { libc } from "@containerd-ts/sys/libc.js";
import type { PeerCredentials } from "@containerd-ts/sys/syscalls.js";

export type { PeerCredentials };

function socketFd(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== "number" || fd < 0) throw new Error("socket has no file descriptor");
  return fd;
}

/**
 * SO_PEERCRED of a connected unix socket: who is on the other end. The libc call lives in
 * @containerd-ts/sys, whose native binding loads on the first call, so servers without peer
 * checks and plain clients never load native code.
 */
export function getPeerCredentials(socket: Socket): PeerCredentials {
  return libc().peerCredentials(socketFd(socket));
}
