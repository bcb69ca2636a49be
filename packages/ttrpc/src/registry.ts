import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethod,
  type DescMethodUnary,
  type DescService,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { GrpcCode } from "@containerd-ts/errdefs";
import { StatusError } from "./status.js";

/** What a handler sees besides its request. */
export interface TtrpcCallContext {
  /** Request metadata, keys lower-cased. */
  metadata: Map<string, string[]>;
  /** Aborted when the call's timeout passes or its connection ends. */
  signal: AbortSignal;
  /** The caller's timeout (Request.timeout_nano), if it sent one. */
  timeoutMs?: number;
  /** `/service/method`, as Go's UnaryServerInfo.FullMethod. */
  fullMethod: string;
}

export type TtrpcUnaryImpl<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  ctx: TtrpcCallContext,
) => Promise<MessageInitShape<O>> | MessageInitShape<O>;

/** Implementation of a service: one function per unary method, keyed by localName (as connect-es). */
export type TtrpcServiceImpl<S extends DescService> = {
  [P in keyof S["method"]]: S["method"][P] extends DescMethodUnary<infer I, infer O>
    ? TtrpcUnaryImpl<I, O>
    : never;
};

interface MethodEntry {
  method: DescMethod;
  impl: (req: unknown, ctx: TtrpcCallContext) => unknown;
}

/** Services by full proto name (`containerd.task.v2.Task`), methods by proto name (`Create`). */
export class ServiceRegistry {
  private readonly services = new Map<string, Map<string, MethodEntry>>();

  register<S extends DescService>(service: S, impl: Partial<TtrpcServiceImpl<S>>): void {
    if (this.services.has(service.typeName)) {
      throw new Error(`duplicate service ${service.typeName} registered`);
    }
    const methods = new Map<string, MethodEntry>();
    const table = impl as Record<string, MethodEntry["impl"] | undefined>;
    for (const method of service.methods) {
      const fn = table[method.localName];
      // ttrpc 1.1 is unary only; unimplemented methods answer 12 like unknown ones.
      if (method.methodKind !== "unary" || typeof fn !== "function") continue;
      methods.set(method.name, { method, impl: fn.bind(impl) });
    }
    this.services.set(service.typeName, methods);
  }

  /** Decodes the payload, runs the handler, encodes its answer; throws StatusError for protocol-level failures. */
  async call(
    service: string,
    method: string,
    payload: Uint8Array,
    ctx: TtrpcCallContext,
  ): Promise<Uint8Array> {
    const entry = this.resolve(service, method);
    const input = entry.method.input as DescMessage;
    const output = entry.method.output as DescMessage;
    let request: unknown;
    try {
      request = fromBinary(input, payload);
    } catch (err) {
      throw new StatusError(
        GrpcCode.Internal,
        `ttrpc: error unmarshalling payload: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const result = await entry.impl(request, ctx);
    if (result === undefined || result === null) throw new Error("ttrpc: marshal called with nil");
    return toBinary(output, create(output, result as MessageInitShape<DescMessage>));
  }

  private resolve(service: string, method: string): MethodEntry {
    const methods = this.services.get(service);
    if (!methods) throw new StatusError(GrpcCode.Unimplemented, `unknown service ${service}`);
    const entry = methods.get(method);
    if (!entry) {
      throw new StatusError(
        GrpcCode.Unimplemented,
        `unknown method ${method} for service ${service}`,
      );
    }
    return entry;
  }
}
