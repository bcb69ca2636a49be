// Public API of @containerd-ts/ctr for other packages (tests, bench): the client connection,
// ctr's default OCI spec, and container operations exactly as ctr-ts performs them.
export { ContainerdClient, type ContainerdClientOptions } from "./client/client.js";
export {
  createClientTransport,
  socketPathOf,
  NAMESPACE_HEADER,
  LEASE_HEADER,
} from "./client/transport.js";
export {
  buildSpec,
  encodeSpec,
  mergeEnv,
  parseMountFlag,
  SPEC_TYPE_URL,
  PROCESS_TYPE_URL,
  type OciSpec,
  type OciMount,
  type SpecOptions,
} from "./spec/oci.js";
export {
  createContainer,
  decodeSpec,
  DEFAULT_RUNTIME,
  type NewContainer,
} from "./ops/containers.js";
export { removeContainer } from "./ops/remove-container.js";
export { listContainers } from "./ops/list-containers.js";
export { withLease } from "./ops/lease.js";
export { buildFilters, quoteFilterValue, shortcutFilter } from "./filters.js";
export { DEFAULT_ADDRESS, DEFAULT_NAMESPACE } from "./base-command.js";
