import type { Any, Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { errInvalidArgument, validateIdentifier } from "@containerd-ts/errdefs";
import { Events } from "@containerd-ts/gen/containerd/services/events/ttrpc/v1/events_pb.js";
import { TtrpcServer } from "@containerd-ts/ttrpc";
import { ExitDeduper } from "./dedupe.js";

export interface ForwardedEnvelope {
  timestamp: Timestamp;
  namespace: string;
  topic: string;
  event: Any;
}

/** The daemon's event exchange: stores the envelope in the history, then fans it out. */
export interface EventForwarder {
  forward(envelope: ForwardedEnvelope): Promise<unknown>;
  /** the stored history (to remember exits delivered before a daemon restart) */
  history?(q: { afterSeq?: number; filters?: readonly string[] }): ForwardedEnvelope[];
  lastSeq?(): number;
}

/** How far back in the history a restarted daemon looks for exits it already stored. */
const EXIT_HISTORY_WINDOW = 4096;

/**
 * ttrpc `containerd.services.events.ttrpc.v1.Events/Forward` on `<address>.ttrpc`: the way
 * shims publish /tasks/* events. An answer is sent only after the event is stored, so a shim
 * that got OK may forget it.
 */
export class EventsTtrpcServer {
  private readonly server: TtrpcServer;
  private readonly dedupe = new ExitDeduper(EXIT_HISTORY_WINDOW);

  constructor(
    private readonly exchange: EventForwarder,
    onError?: (err: unknown) => void,
  ) {
    this.rememberStoredExits();
    // like containerd's UnixSocketRequireSameUser: only our own user may publish events
    const uid = process.geteuid?.();
    this.server = new TtrpcServer({
      onError,
      checkPeer: (cred) => uid === undefined || cred.uid === uid,
    });
    this.server.register(Events, {
      forward: async (req) => {
        const env = req.envelope;
        if (!env) throw errInvalidArgument("envelope is required");
        validateIdentifier(env.namespace, "namespace");
        if (!env.event) throw errInvalidArgument("event is required");
        if (this.dedupe.isDuplicate(env.namespace, env.topic, env.event)) return {};
        await this.exchange.forward({
          timestamp: env.timestamp ?? timestampNow(),
          namespace: env.namespace,
          topic: env.topic,
          event: env.event,
        });
        return {};
      },
    });
  }

  /**
   * A shim re-sends spooled events it was not sure were stored (the daemon died between
   * storing and answering): exits already in the history must not be stored twice.
   */
  private rememberStoredExits(): void {
    const { history, lastSeq } = this.exchange;
    if (!history || !lastSeq) return;
    const afterSeq = Math.max(0, lastSeq.call(this.exchange) - EXIT_HISTORY_WINDOW);
    for (const e of history.call(this.exchange, { afterSeq, filters: ['topic=="/tasks/exit"'] })) {
      this.dedupe.isDuplicate(e.namespace, e.topic, e.event);
    }
  }

  /** Creates `<address>.ttrpc` (a stale socket of a killed daemon is replaced), mode 0600. */
  listen(socketPath: string): Promise<void> {
    return this.server.listen(socketPath, 0o600);
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
