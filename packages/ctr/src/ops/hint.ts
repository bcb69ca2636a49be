import type { ContainerdClient } from "../client/client.js";

/**
 * containerd#11039: an empty listing in one namespace is confusing when the things live in
 * another. Returns a hint naming the namespaces that do hold some, or undefined.
 */
export async function emptyNamespaceHint(
  client: ContainerdClient,
  what: string,
  countIn: (namespace: string) => Promise<number>,
): Promise<string | undefined> {
  const { Namespaces } = await import(
    "@containerd-ts/gen/containerd/services/namespaces/v1/namespace_pb.js"
  );
  const { namespaces } = await client.service(Namespaces).list({}, client.call());
  const others: string[] = [];
  for (const ns of namespaces) {
    if (ns.name === client.namespace) continue;
    const n = await countIn(ns.name).catch(() => 0);
    if (n > 0) others.push(`${ns.name} (${n})`);
  }
  if (others.length === 0) return undefined;
  return `no ${what} in namespace "${client.namespace}", but there are in: ${others.join(", ")}; use -n NAMESPACE`;
}
