import { readSync, writeSync } from "node:fs";

/** Messages between `runc-ts create|exec` and the init/exec child, one JSON object a line. */
export type SyncMessage =
  | { type: "hooks" }
  | { type: "hooks-done" }
  | { type: "ready"; pid?: number }
  | { type: "error"; message: string };

/** The child's blocking end of the sync socket. */
export class SyncChannel {
  private buffered = "";
  constructor(readonly fd: number) {}

  send(msg: SyncMessage): void {
    writeSync(this.fd, JSON.stringify(msg) + "\n");
  }

  /** Reads one line; throws when the parent went away. */
  receiveLine(): string {
    const chunk = Buffer.alloc(65536);
    for (;;) {
      const nl = this.buffered.indexOf("\n");
      if (nl >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        return line;
      }
      const n = readSync(this.fd, chunk, 0, chunk.length, null);
      if (n === 0) throw new Error("sync: parent closed the channel");
      this.buffered += chunk.subarray(0, n).toString("utf8");
    }
  }

  receive<T = SyncMessage>(): T {
    return JSON.parse(this.receiveLine(), bigintReviver) as T;
  }
}

/** JSON with bigints: they travel as {"$bigint":"123"}. */
export function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? { $bigint: value.toString() } : value;
}

export function bigintReviver(_key: string, value: unknown): unknown {
  if (value && typeof value === "object" && "$bigint" in value && Object.keys(value).length === 1)
    return BigInt((value as { $bigint: string }).$bigint);
  return value;
}
