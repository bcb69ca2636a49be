export * from "./constants.js";
export * from "./errors.js";
export * from "./syscalls.js";
export { LibcSyscalls, libc, decodeWaitStatus } from "./libc.js";
export { RecordingSyscalls, FakeExec, type RecordedCall } from "./fake.js";
