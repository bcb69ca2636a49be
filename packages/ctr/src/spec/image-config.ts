import { mergeEnv, type OciUser } from "./oci.js";

/** The `config` object of an OCI/Docker image config blob: what a container process inherits. */
export interface ImageConfig {
  User?: string;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
}

/** containerd's default PATH when an image config names no environment at all. */
export const DEFAULT_UNIX_ENV = [
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
];

export interface ImageProcess {
  args: string[];
  env: string[];
  cwd: string;
  user: OciUser;
}

/**
 * The process fields ctr 1.6 derives from an image config (oci.WithImageConfig followed by
 * ctr's own options): the image's Env (or the default PATH) with `env` K=V entries merged in,
 * Entrypoint+Cmd unless a command is given — a given command replaces both, as ctr's
 * WithProcessArgs runs after WithImageConfig — WorkingDir (default `/`) and the user, whose
 * gid ctr always lists among the additional gids (the image's /etc/group is not read).
 */
export function processFromImageConfig(
  config: ImageConfig,
  command: readonly string[],
  env: readonly string[] = [],
): ImageProcess {
  const base = config.Env && config.Env.length > 0 ? config.Env : DEFAULT_UNIX_ENV;
  const args =
    command.length > 0 ? [...command] : [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (args.length === 0) throw new Error("no command given and the image has no Cmd/Entrypoint");
  const user = parseNumericUser(config.User ?? "");
  return {
    args,
    env: mergeEnv(base, env),
    cwd: config.WorkingDir || "/",
    user: { ...user, additionalGids: [user.gid] },
  };
}

/**
 * `uid`, `uid:gid` or root. Names need the image's /etc/passwd, which ctr reads from the
 * mounted snapshot; ctr-ts does not mount it and refuses them rather than run as root.
 */
export function parseNumericUser(user: string): { uid: number; gid: number } {
  if (user === "" || user === "root" || user === "root:root") return { uid: 0, gid: 0 };
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m) throw new Error(`image user "${user}" is not numeric: ctr-ts resolves only uid[:gid]`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? 0) };
}

/**
 * The container labels ctr gives an image's container: the config's Labels, then the image
 * record's, then the command line's, and the stop signal (the config's, else SIGTERM).
 */
export function imageContainerLabels(
  config: ImageConfig,
  imageLabels: Record<string, string>,
  flagLabels: Record<string, string>,
): Record<string, string> {
  return {
    ...(config.Labels ?? {}),
    ...imageLabels,
    ...flagLabels,
    "io.containerd.image.config.stop-signal": config.StopSignal || "SIGTERM",
  };
}
