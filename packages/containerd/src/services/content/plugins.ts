import type { PluginInfo } from "../introspection/domain.js";

/** Adds plugins to the daemon's Introspection list once (registration may run again). */
export function addPlugins(list: PluginInfo[], plugins: readonly PluginInfo[]): void {
  for (const p of plugins) {
    if (!list.some((q) => q.type === p.type && q.id === p.id)) list.push(p);
  }
}
