/**
 * ctr's spellings: every topic alias with every command alias (`ns ls`, `namespace list`...),
 * minus the canonical id itself. oclif stores ids with ":" between words.
 */
export function aliasIds(topics: readonly string[], names: readonly string[]): string[] {
  const ids: string[] = [];
  for (const t of topics) for (const n of names) ids.push(`${t}:${n}`);
  return ids.slice(1);
}

export const NAMESPACES = ["namespaces", "namespace", "ns"] as const;
export const CONTAINERS = ["containers", "container", "c"] as const;
export const TASKS = ["tasks", "task", "t"] as const;
export const LS = ["ls", "list"] as const;
export const RM = ["rm", "remove", "delete", "del"] as const;
