import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Test fixtures shared by the runtime unit tests and the e2e tests (not used by the daemon). */

const CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** An OCI spec shaped like the one ctr generates for `--rootfs`. */
export function busyboxSpec(
  rootfs: string,
  args: string[],
  o: { id?: string; namespace?: string; terminal?: boolean } = {},
): Record<string, unknown> {
  return {
    ociVersion: "1.0.2-dev",
    process: {
      terminal: o.terminal ?? false,
      user: { uid: 0, gid: 0 },
      args,
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      cwd: "/",
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: rootfs },
    mounts: [
      {
        destination: "/proc",
        type: "proc",
        source: "proc",
        options: ["nosuid", "noexec", "nodev"],
      },
      {
        destination: "/dev",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
      },
      {
        destination: "/dev/pts",
        type: "devpts",
        source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
      },
      {
        destination: "/dev/shm",
        type: "tmpfs",
        source: "shm",
        options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
      },
      {
        destination: "/sys",
        type: "sysfs",
        source: "sysfs",
        options: ["nosuid", "noexec", "nodev", "ro"],
      },
      {
        destination: "/run",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
      },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: "rwm" }] },
      cgroupsPath: `/${o.namespace ?? "default"}/${o.id ?? "test"}`,
      namespaces: [
        { type: "pid" },
        { type: "ipc" },
        { type: "uts" },
        { type: "mount" },
        { type: "network" },
      ],
      maskedPaths: ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

/** A busybox rootfs in a temp dir: /bin/busybox and the applets the tests use. */
export function makeBusyboxRootfs(parent = tmpdir()): string {
  const dir = mkdtempSync(join(parent, "ctd-ts-rootfs-"));
  for (const d of ["bin", "proc", "dev", "sys", "tmp", "run", "etc"])
    mkdirSync(join(dir, d), { recursive: true });
  cpSync("/bin/busybox", join(dir, "bin", "busybox"));
  for (const applet of [
    "sh",
    "echo",
    "sleep",
    "ps",
    "cat",
    "true",
    "false",
    "ls",
    "id",
    "read",
    "top",
  ]) {
    symlinkSync("busybox", join(dir, "bin", applet));
  }
  return dir;
}

/** Removes the (empty) parent cgroup `/<name>` runc leaves in every hierarchy. */
export function removeCgroupParent(name: string): void {
  const base = "/sys/fs/cgroup";
  let hierarchies: string[];
  try {
    hierarchies = readdirSync(base);
  } catch {
    return;
  }
  for (const h of [".", ...hierarchies]) {
    try {
      rmdirSync(join(base, h, name));
    } catch {
      // not there, or still busy (a test failure left a container): leave it
    }
  }
}
