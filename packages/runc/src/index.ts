// runc-ts as a library: config validation, the init plan and the lifecycle operations the
// CLI runs (callable in-process), plus the client that drives any runc-compatible binary.
// The CLI (cli/main.ts) does not import this file: it loads only what a command needs.
export {
  validateSpec,
  validateProcess,
  type ContainerConfig,
  type ProcessConfig,
} from "./spec/config.js";
export { defaultSpec, features } from "./spec/default.js";
export type { Spec } from "./spec/types.js";
export { buildInitPlan, processSteps, type InitStep } from "./init/plan.js";
export {
  createContainer,
  type CreateOptions as CreateContainerOptions,
} from "./container/create.js";
export {
  containerStateJson,
  deleteContainer,
  killContainer,
  listContainers,
  parseSignal,
  pauseContainer,
  resumeContainer,
  startContainer,
  updateContainer,
} from "./container/ops.js";
export { DEFAULT_ROOT } from "./cli/commands.js";
export * from "./client/index.js";
