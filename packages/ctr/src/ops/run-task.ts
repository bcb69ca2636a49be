import type { ContainerdClient } from "../client/client.js";
import { removeFifoSet, type FifoSet } from "../stdio/fifo.js";
import { containerRootfsMounts } from "./container-snapshot.js";
import { finishStdio, prepareStdio, superviseProcess, type StdioChoice } from "./task-session.js";

/**
 * Creates and starts the task of an existing container (`run`, `tasks start`): FIFOs opened
 * before Tasks/Create, Wait before Start, the task deleted after it exited (like ctr). A
 * container with a snapshot gets its mounts as the task's rootfs, as ctr's NewTask does.
 * Returns the exit status; 0 right after Start with `detach`.
 */
export async function runContainerTask(
  client: ContainerdClient,
  id: string,
  io: StdioChoice,
  /** Tasks/Create options (runc Options: a CRIU image to restore from) */
  options?: { typeUrl: string; value: Uint8Array },
  /** Tasks/Create checkpoint: a CRIU tar in the content store to restore from */
  checkpoint?: { mediaType: string; digest: string; size: bigint },
): Promise<number> {
  const [{ Tasks }, { Containers }] = await Promise.all([
    import("@containerd-ts/gen/containerd/services/tasks/v1/tasks_pb.js"),
    import("@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js"),
  ]);
  const tasks = client.service(Tasks);
  const { container } = await client.service(Containers).get({ id }, client.call());
  const rootfs = container ? await containerRootfsMounts(client, container) : [];
  const { fifos, attached } = prepareStdio(id, io);
  let created = false;
  let finished = false;
  try {
    await tasks.create(
      {
        containerId: id,
        stdin: fifos.stdin,
        stdout: fifos.stdout,
        stderr: fifos.stderr,
        terminal: io.tty,
        rootfs,
        options,
        checkpoint,
      },
      client.call(),
    );
    created = true;
    if (io.detach) {
      await tasks.start({ containerId: id }, client.call());
      finished = true;
      attached.close();
      return 0;
    }
    const status = await superviseProcess(client, tasks, { containerId: id }, attached, {
      tty: io.tty,
      start: true,
    });
    await tasks.delete({ containerId: id }, client.call());
    finished = true;
    return status;
  } catch (err) {
    // a task that never ran must not stay behind
    if (created && !finished)
      await tasks.delete({ containerId: id }, client.call()).catch(() => undefined);
    if (io.detach) {
      attached.close();
      removeFifoSet(fifos);
    }
    throw err;
  } finally {
    if (!io.detach) await finishStdio(fifos, attached);
  }
}

export type { FifoSet };
