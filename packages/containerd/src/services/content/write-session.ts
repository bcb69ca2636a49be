import { errAlreadyExists, errInvalidArgument, errInternal } from "@containerd-ts/errdefs";
import { WriteAction } from "@containerd-ts/gen/containerd/services/content/v1/content_pb.js";
import type { Labels } from "../../store/index.js";
import { OutOfRangeError, type ContentService } from "./domain.js";

export { WriteAction };

/** One message of a Write stream from the client (sizes as numbers). */
export interface WriteRequest {
  action: WriteAction;
  ref: string;
  total: number;
  expected: string;
  offset: number;
  data: Uint8Array;
  labels: Labels;
}

export interface WriteResponse {
  action: WriteAction;
  startedAt?: Date;
  updatedAt?: Date;
  offset: number;
  total: number;
  digest: string;
}

/**
 * containerd's Write protocol: the first request names the ref (and maybe the expected size
 * and digest) and opens or resumes the ingest; each request gets one answer. STAT reports
 * the ingest; WRITE appends at the current offset (offset 0 on a non-empty ingest starts
 * over, any other offset must be the current one); COMMIT writes its data, verifies size
 * and digest and ends the session.
 *
 * Like containerd, the answer object carries over between requests (a STAT's timestamps
 * stay in later answers), and a session that ends without error sends its last answer once
 * more (containerd's deferred Send); clients read one answer per request and ignore it.
 */
export async function* writeSession(
  content: ContentService,
  ns: string,
  lease: string | undefined,
  requests: AsyncIterable<WriteRequest>,
): AsyncGenerator<WriteResponse> {
  const input = requests[Symbol.asyncIterator]();
  let next = await input.next();
  if (next.done) return;
  let req = next.value;
  const ref = req.ref;
  if (ref === "") throw errInvalidArgument("first message must have a reference");
  let total = req.total;
  let expected = req.expected;
  const writer = await content.writer(ns, { ref, total, expected, lease });
  const msg: WriteResponse = { action: req.action, offset: 0, total: 0, digest: "" };
  try {
    for (;;) {
      msg.action = req.action;
      const ws = writer.status();
      msg.offset = ws.offset;
      if (req.expected !== "") {
        expected = req.expected;
        if (content.has(ns, expected)) {
          await writer.close();
          abortQuietly(content, ns, ref, lease);
          throw errAlreadyExists(`blob with expected digest ${expected} exists`);
        }
      }
      if (req.total > 0) total = req.total;
      if (req.action === WriteAction.STAT) {
        msg.digest = writer.digest();
        msg.startedAt = ws.startedAt;
        msg.updatedAt = ws.updatedAt;
        msg.total = total;
      } else if (req.action === WriteAction.WRITE || req.action === WriteAction.COMMIT) {
        if (req.offset > 0 && req.offset !== ws.offset) {
          throw new OutOfRangeError(
            `write @${req.offset} must occur at current offset ${ws.offset}`,
          );
        }
        if (req.offset === 0 && ws.offset > 0) {
          await writer.truncate();
          msg.offset = 0;
        }
        if (req.data.length > 0) {
          const n = await writer.write(req.data);
          if (n !== req.data.length) throw errInternal(`wrote ${n} of ${req.data.length} bytes`);
          msg.offset += n;
        }
        if (req.action === WriteAction.COMMIT) await writer.commit(total, expected, req.labels);
        msg.digest = writer.digest();
      }
      yield { ...msg };
      if (req.action === WriteAction.COMMIT) break;
      next = await input.next();
      if (next.done) break;
      req = next.value;
    }
  } finally {
    await writer.close();
  }
  yield { ...msg };
}

function abortQuietly(content: ContentService, ns: string, ref: string, lease?: string): void {
  try {
    content.abort(ns, ref, lease);
  } catch {
    // nothing to abort
  }
}
