import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { resolveAllowed, WebhookUrlRefused } from "./address-guard.js";

export interface SendInput {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The whole attempt: resolving, connecting, sending, reading the answer. */
  timeoutMs: number;
  allowPrivate: boolean;
}

/** How an attempt went: the receiver's status, or why there was none. */
export type SendResult = { ok: boolean; status: number | null; error: string | null };

/** Bytes of a receiver's answer read (then the connection is dropped): its body is not used. */
const MAX_RESPONSE_BYTES = 64 * 1024;

const USER_AGENT = "Reelkit-Webhooks/1";

/**
 * POSTs one webhook. The host is resolved and checked first, and the connection goes to the
 * checked address (a lookup that returns it), so DNS rebinding cannot reach a private address;
 * redirects are not followed (a 3xx is a failure); the attempt is bounded in time and in the
 * bytes read back. Never throws: the result says what happened.
 */
export async function sendWebhook(input: SendInput): Promise<SendResult> {
  const url = new URL(input.url);
  const signal = AbortSignal.timeout(input.timeoutMs);
  let addresses: { address: string; family: 4 | 6 }[];
  try {
    addresses = await resolveAllowed(url.hostname, input.allowPrivate);
  } catch (err) {
    return { ok: false, status: null, error: err instanceof WebhookUrlRefused ? err.message : String(err) };
  }
  const pinned: LookupFunction = (_hostname, options, callback) => {
    const first = addresses[0] as { address: string; family: 4 | 6 };
    if ((options as { all?: boolean }).all) (callback as (e: null, a: typeof addresses) => void)(null, addresses);
    else callback(null, first.address, first.family);
  };
  const transport = url.protocol === "https:" ? https : http;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const req = transport.request(
      url,
      {
        method: "POST",
        headers: {
          ...input.headers,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(input.body),
          "user-agent": USER_AGENT,
        },
        lookup: pinned,
        agent: false,
        signal,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        const done = () => {
          res.destroy();
          if (status >= 200 && status < 300) finish({ ok: true, status, error: null });
          else if (status >= 300 && status < 400)
            finish({ ok: false, status, error: `redirect (${status}) not followed` });
          else finish({ ok: false, status, error: `HTTP ${status}` });
        };
        res.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read >= MAX_RESPONSE_BYTES) done();
        });
        res.on("end", done);
        res.on("error", done);
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) => {
      const reason = signal.aborted ? `timed out after ${input.timeoutMs} ms` : (err.code ?? err.message);
      finish({ ok: false, status: null, error: reason });
    });
    req.end(input.body);
  });
}
