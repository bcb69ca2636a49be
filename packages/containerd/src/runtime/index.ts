export {
  RuntimeManager,
  type RuntimeManagerOptions,
  type CreateTaskOptions,
  type TaskExitInfo,
  type RuntimeLogger,
} from "./manager.js";
export { ShimTask, SHIM_DEADLINES } from "./shim-task.js";
export { recoverTasks, type RecoveryOptions, type RecoveryReport } from "./recovery.js";
export { resolveShimBinary, shimBinaryName, ShimResolver } from "./binary.js";
export {
  createBundle,
  deleteBundle,
  loadBundle,
  bundleRoots,
  TASK_DIR,
  type Bundle,
} from "./bundle.js";
export {
  tasksLifecycle,
  registerTasksService,
  tasksRuntimeFor,
  type TasksDaemonContext,
} from "./lifecycle.js";
export { zeroTimestamp, orZeroTime, ZERO_TIME_SECONDS } from "./events.js";
