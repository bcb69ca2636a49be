import type { Client } from "@connectrpc/connect";
import type { Container } from "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js";
import type { Tasks } from "@containerd-ts/gen/containerd/services/tasks/v1/tasks_pb.js";
import type { ContainerdClient } from "../client/client.js";
import { mergeEnv, PROCESS_TYPE_URL, type OciProcess } from "../spec/oci.js";
import { removeFifoSet } from "../stdio/fifo.js";
import { decodeSpec } from "./containers.js";
import { finishStdio, prepareStdio, superviseProcess, type StdioChoice } from "./task-session.js";

export interface ExecOptions {
  execId: string;
  args: string[];
  cwd?: string;
  env?: string[];
  io: StdioChoice;
}

/** The exec's process spec: the container's process with new args/terminal/cwd/env (like ctr). */
export function execProcessSpec(base: OciProcess | undefined, o: ExecOptions): OciProcess {
  const proc: OciProcess = base
    ? structuredClone(base)
    : { user: { uid: 0, gid: 0 }, args: [], cwd: "/" };
  proc.args = [...o.args];
  if (o.io.tty) proc.terminal = true;
  else delete proc.terminal;
  if (o.cwd) proc.cwd = o.cwd;
  if (o.env && o.env.length > 0) proc.env = mergeEnv(proc.env ?? [], o.env);
  return proc;
}

/**
 * Tasks/Exec, then Wait before Start(exec_id), then DeleteProcess after the exit, as ctr does.
 * Returns the exit status (0 right after Start with `detach`).
 */
export async function execProcess(
  client: ContainerdClient,
  tasks: Client<typeof Tasks>,
  container: Container,
  o: ExecOptions,
): Promise<number> {
  const spec = decodeSpec(container) as { process?: OciProcess } | undefined;
  const proc = execProcessSpec(spec?.process, o);
  const ref = { containerId: container.id, execId: o.execId };
  const { fifos, attached } = prepareStdio(o.execId, o.io);
  let added = false;
  try {
    await tasks.exec(
      {
        ...ref,
        stdin: fifos.stdin,
        stdout: fifos.stdout,
        stderr: fifos.stderr,
        terminal: o.io.tty,
        spec: { typeUrl: PROCESS_TYPE_URL, value: new TextEncoder().encode(JSON.stringify(proc)) },
      },
      client.call(),
    );
    added = true;
    if (o.io.detach) {
      await tasks.start(ref, client.call());
      added = false;
      attached.close();
      return 0;
    }
    const status = await superviseProcess(client, tasks, ref, attached, {
      tty: o.io.tty,
      start: true,
    });
    await tasks.deleteProcess(ref, client.call());
    added = false;
    return status;
  } catch (err) {
    if (added) await tasks.deleteProcess(ref, client.call()).catch(() => undefined);
    if (o.io.detach) {
      attached.close();
      removeFifoSet(fifos);
    }
    throw err;
  } finally {
    if (!o.io.detach) await finishStdio(fifos, attached);
  }
}
