import { randomBytes } from "node:crypto";
import type { ContainerdClient } from "../client/client.js";
import { LEASE_HEADER } from "../client/transport.js";

/** How long a lease lives if ctr-ts dies before deleting it (ctr uses 24h). */
const LEASE_EXPIRY_MS = 24 * 60 * 60 * 1000;

/**
 * Runs `fn` under a fresh lease, like ctr wraps every container create: Leases/Create with a
 * gc.expire label, `fn` gets the `containerd-lease` header, Leases/Delete afterwards.
 */
export async function withLease<T>(
  client: ContainerdClient,
  fn: (headers: Record<string, string>) => Promise<T>,
): Promise<T> {
  const { Leases } = await import("@containerd-ts/gen/containerd/services/leases/v1/leases_pb.js");
  const leases = client.service(Leases);
  const id = `${Date.now()}-${randomBytes(4).toString("hex")}`;
  const expire = new Date(Date.now() + LEASE_EXPIRY_MS).toISOString().replace(/\.\d+Z$/, "Z");
  await leases.create({ id, labels: { "containerd.io/gc.expire": expire } }, client.call());
  try {
    return await fn({ [LEASE_HEADER]: id });
  } finally {
    await leases.delete({ id }, client.call());
  }
}
