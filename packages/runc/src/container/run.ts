import { trace } from "../trace.js";
import { exitCodeOf, forwardSignals } from "./child.js";
import { proxyConsole } from "./console.js";
import type { Created } from "./create.js";
import { destroy, loadContainer, startContainer } from "./ops.js";

/**
 * `run`: create + start, then (unless detached) forward signals to the init, wait for it
 * and exit with its status; without --keep the container is deleted afterwards.
 */
export async function runContainer(
  root: string,
  c: Created,
  o: { detach: boolean; keep: boolean; warn: (m: string) => void },
): Promise<number> {
  const exited = exitCodeOf(c.child);
  try {
    await startContainer(root, c.state.id);
  } catch (e) {
    try {
      process.kill(c.state.initPid, "SIGKILL");
    } catch {
      // gone already
    }
    await exited;
    await destroy(root, await loadContainer(root, c.state.id), o.warn);
    throw e;
  }
  if (o.detach) {
    c.child.unref();
    return 0;
  }
  trace("run: started");
  const undo = forwardSignals(c.state.initPid);
  const tty = c.master !== undefined ? proxyConsole(c.master) : undefined;
  const code = await exited;
  if (tty) {
    await Promise.race([tty.done, new Promise((r) => setTimeout(r, 1000))]);
    tty.stop();
  }
  undo();
  trace("run: exited");
  if (!o.keep) await destroy(root, await loadContainer(root, c.state.id), o.warn);
  return code;
}
