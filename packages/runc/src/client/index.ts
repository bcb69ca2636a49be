export { RuncClient } from "./runc-client.js";
export { RuncError, lastLogError } from "./errors.js";
export type {
  RuncClientOptions,
  RuncIO,
  RuncState,
  RuncVersion,
  CreateOptions,
  ExecOptions,
  CheckpointOptions,
  RestoreOptions,
  SpawnRuntime,
} from "./types.js";
