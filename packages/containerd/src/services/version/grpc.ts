import { readFileSync } from "node:fs";
import type { ConnectRouter } from "@connectrpc/connect";
import { Version } from "@containerd-ts/gen/containerd/services/version/v1/version_pb.js";
import type { DaemonContext } from "../../context.js";

/** The daemon's version: the package version, revision "containerd-ts". */
export function daemonVersion(): { version: string; revision: string } {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL("../../../package.json", import.meta.url), "utf8"),
    ) as {
      version: string;
    };
    return { version: pkg.version, revision: "containerd-ts" };
  } catch {
    return { version: "0.0.0", revision: "containerd-ts" };
  }
}

export function registerVersionService(router: ConnectRouter, _ctx: DaemonContext): void {
  const v = daemonVersion();
  router.service(Version, { version: () => v });
}
