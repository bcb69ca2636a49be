import { randomUUID } from "node:crypto";
import { statSync } from "node:fs";
import { nonEmpty, parseStoreFilters, type Adaptor } from "../../filters/index.js";
import type { MetadataStore } from "../../store/index.js";

export interface PluginInfo {
  type: string;
  id: string;
  requires?: string[];
  platforms?: Array<{ os: string; architecture: string; variant?: string }>;
  exports?: Record<string, string>;
  capabilities?: string[];
  /** Set when the plugin failed to initialise. */
  initError?: string;
}

export interface ServerInfo {
  uuid: string;
  pid: number;
  /** Inode of the daemon's pid namespace (0 if unknown). */
  pidns: number;
}

/** containerd filters plugins by type and id only. */
export function pluginAdaptor(p: PluginInfo): Adaptor {
  return ([head]) =>
    head === "type" ? nonEmpty(p.type) : head === "id" ? nonEmpty(p.id) : undefined;
}

/** Adds plugins to the daemon's Introspection list once (registration may run again). */
export function addPlugins(list: PluginInfo[], plugins: readonly PluginInfo[]): void {
  for (const p of plugins) {
    if (!list.some((q) => q.type === p.type && q.id === p.id)) list.push(p);
  }
}

const GO_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" };

export function hostPlatform(): { os: string; architecture: string } {
  return { os: process.platform, architecture: GO_ARCH[process.arch] ?? process.arch };
}

/** The plugins this daemon actually provides, named as containerd names them. */
export function builtinPlugins(paths: { root: string; state: string }): PluginInfo[] {
  const grpc = (id: string, requires: string[] = []): PluginInfo => ({
    type: "io.containerd.grpc.v1",
    id,
    requires,
  });
  return [
    { type: "io.containerd.event.v1", id: "exchange" },
    {
      type: "io.containerd.metadata.v1",
      id: "sqlite",
      requires: ["io.containerd.event.v1"],
      exports: { path: `${paths.root}/meta.db` },
    },
    {
      type: "io.containerd.runtime.v2",
      id: "task",
      requires: ["io.containerd.event.v1", "io.containerd.metadata.v1"],
      platforms: [hostPlatform()],
      exports: {
        root: `${paths.root}/io.containerd.runtime.v2.task`,
        state: `${paths.state}/io.containerd.runtime.v2.task`,
      },
    },
    grpc("containers", ["io.containerd.metadata.v1"]),
    grpc("events", ["io.containerd.event.v1"]),
    grpc("healthcheck"),
    grpc("introspection"),
    grpc("leases", ["io.containerd.metadata.v1"]),
    grpc("namespaces", ["io.containerd.metadata.v1"]),
    grpc("tasks", ["io.containerd.runtime.v2", "io.containerd.metadata.v1"]),
    grpc("version"),
  ];
}

export class IntrospectionService {
  private readonly uuid: string;

  constructor(
    store: MetadataStore,
    private readonly plugins: () => readonly PluginInfo[],
  ) {
    // created once, then the same for the life of --root
    this.uuid = store.meta.getOrSet("uuid", () => randomUUID());
  }

  listPlugins(filters: readonly string[] = []): PluginInfo[] {
    const f = parseStoreFilters(filters);
    return this.plugins().filter((p) => f.match(pluginAdaptor(p)));
  }

  server(): ServerInfo {
    let pidns = 0;
    try {
      pidns = statSync("/proc/self/ns/pid").ino;
    } catch {
      // no procfs
    }
    return { uuid: this.uuid, pid: process.pid, pidns };
  }
}
