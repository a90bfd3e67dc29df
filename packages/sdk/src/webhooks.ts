import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Verifying Reelkit's webhooks on a receiving server (Node). Every delivery is signed per the
 * Standard Webhooks spec: `webhook-signature` holds `v1,<base64 HMAC-SHA256>` over
 * `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the bytes of the endpoint's `whsec_…`
 * secret. Retries and redeliveries of one event carry the same `webhook-id`: deduplicate on it.
 */

/** Why a webhook was refused. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

/** A verified delivery: the parsed body and the id to deduplicate on. */
export interface VerifiedWebhook<T = unknown> {
  id: string;
  timestamp: Date;
  type: string;
  data: T;
  /** The whole parsed body (`{ type, timestamp, data }`). */
  payload: { type: string; timestamp: string; data: T };
}

export interface VerifyOptions {
  /** How far `webhook-timestamp` may be from now, in seconds (default 300): older deliveries are replays. */
  toleranceSeconds?: number;
  /** The current time (tests). */
  now?: Date;
}

/** Header values from a Fetch `Headers`, a Node `IncomingHttpHeaders` or a plain object. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

function secretBytes(secret: string): Buffer {
  const encoded = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret;
  const bytes = Buffer.from(encoded, "base64");
  if (bytes.length === 0) throw new WebhookVerificationError("the secret is empty or not base64");
  return bytes;
}

/**
 * Checks a delivery's signature and timestamp and returns its parsed body; throws
 * WebhookVerificationError otherwise. Pass the body exactly as received (the raw string or
 * bytes, never a re-serialized object): the signature covers those bytes.
 *
 * ```ts
 * const event = verifyWebhook(rawBody, request.headers, process.env.REELKIT_WEBHOOK_SECRET);
 * if (event.type === "video.ready") publish(event.data);
 * ```
 */
export function verifyWebhook<T = unknown>(
  payload: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyOptions = {},
): VerifiedWebhook<T> {
  const id = header(headers, "webhook-id");
  const timestampText = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestampText || !signatures) {
    throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature");
  }
  if (!/^\d{1,12}$/.test(timestampText)) throw new WebhookVerificationError("webhook-timestamp is not a number");
  const timestamp = Number(timestampText);
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(now - timestamp) > tolerance) {
    throw new WebhookVerificationError(`webhook-timestamp is more than ${tolerance} s away from now`);
  }
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : Buffer.from(payload);
  const expected = createHmac("sha256", secretBytes(secret)).update(`${id}.${timestamp}.`).update(body).digest();
  // Several space-separated signatures may be sent (secret rotation): one valid v1 is enough.
  const valid = signatures.split(" ").some((entry) => {
    const [version, value] = entry.split(",", 2);
    if (version !== "v1" || !value) return false;
    const given = Buffer.from(value, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!valid) throw new WebhookVerificationError("no valid signature");
  let parsed: { type: string; timestamp: string; data: T };
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new WebhookVerificationError("the body is not JSON");
  }
  return { id, timestamp: new Date(timestamp * 1000), type: parsed.type, data: parsed.data, payload: parsed };
}
