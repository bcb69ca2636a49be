// The daemon launchers and leftover cleanup, for the benches (the harnesses stay test-only).
export * from "./daemon-process.js";
export * from "./containerd-ts.js";
export * from "./real-containerd.js";
export * from "./leftovers.js";
