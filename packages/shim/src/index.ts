// Public surface of @containerd-ts/shim for the daemon and tests. The binary is dist/main.js.
export {
  DEFAULT_SOCKET_DIR,
  SOCKET_DIR_ENV,
  SOCKET_PATH_LIMIT,
  socketAddress,
  socketPath,
  writeFileAtomic,
  readAddress,
} from "./paths.js";
export {
  GROUP_LABELS,
  groupingId,
  SHIM_NODE_FLAGS_ENV,
  DEFAULT_NODE_FLAGS,
  shimNodeFlags,
} from "./start.js";
export {
  DEFAULT_RUNTIME,
  RUNTIME_ENV,
  DEFAULT_RUNTIME_ROOT,
  resolveRuntimeBinary,
  type OciRuntime,
} from "./runtime.js";
export { SHIM_VERSION } from "./version.js";
export { TaskService, type TaskServiceDeps } from "./service.js";
export { taskApi } from "./task-api.js";
export { EventSpool } from "./events/spool.js";
export { EventPublisher, type Forwarder } from "./events/publisher.js";
export {
  INIT_TRANSITIONS,
  EXEC_TRANSITIONS,
  nextState,
  type ProcessState,
  type Operation,
} from "./lifecycle.js";
