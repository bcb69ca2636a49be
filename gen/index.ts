// Generated modules are imported by path, e.g.
// "@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js".
export {};
