import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethodUnary,
  type DescService,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { errNotImplemented } from "@containerd-ts/errdefs";
import type { TtrpcCallOptions, TtrpcConnection } from "./client-connection.js";
import type { MetadataInit } from "./metadata.js";

/** One async function per unary method, keyed by localName (as connect-es's Client). */
export type TtrpcClient<S extends DescService> = {
  [P in keyof S["method"]]: S["method"][P] extends DescMethodUnary<infer I, infer O>
    ? (request: MessageInitShape<I>, options?: TtrpcCallOptions) => Promise<MessageShape<O>>
    : never;
};

export interface TtrpcClientDefaults {
  metadata?: MetadataInit;
  timeoutMs?: number;
}

/** A typed client for `service` over `conn`; per-call options override the defaults. */
export function createTtrpcClient<S extends DescService>(
  service: S,
  conn: TtrpcConnection,
  defaults: TtrpcClientDefaults = {},
): TtrpcClient<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) {
    if (method.methodKind !== "unary") {
      client[method.localName] = () =>
        Promise.reject(
          errNotImplemented(`ttrpc: ${method.methodKind} method ${method.name} is not supported`),
        );
      continue;
    }
    const input = method.input as DescMessage;
    const output = method.output as DescMessage;
    client[method.localName] = async (
      request: MessageInitShape<DescMessage>,
      options: TtrpcCallOptions = {},
    ) => {
      const payload = toBinary(input, create(input, request));
      const reply = await conn.call(service.typeName, method.name, payload, {
        timeoutMs: options.timeoutMs ?? defaults.timeoutMs,
        metadata: { ...defaults.metadata, ...options.metadata },
        signal: options.signal,
      });
      return fromBinary(output, reply);
    };
  }
  return client as TtrpcClient<S>;
}
