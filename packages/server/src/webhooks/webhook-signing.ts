import { createHmac, randomBytes } from "node:crypto";

const SECRET_PREFIX = "whsec_";

/** A new endpoint secret, `whsec_` + 32 random bytes in base64 (the Standard Webhooks form). */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString("base64")}`;
}

/** The key bytes of a `whsec_…` secret. */
export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, "base64");
}

export interface SignInput {
  /** `webhook-id`: the same on every attempt of one event. */
  id: string;
  /** `webhook-timestamp`: seconds since the epoch, of this attempt. */
  timestamp: number;
  /** The exact body sent. */
  body: string;
  secret: string;
}

/**
 * The Standard Webhooks headers of one attempt: `webhook-signature` is `v1,` + base64 of
 * HMAC-SHA256 over `<id>.<timestamp>.<body>` with the secret's bytes.
 */
export function signWebhook(input: SignInput): Record<string, string> {
  const signature = createHmac("sha256", secretKey(input.secret))
    .update(`${input.id}.${input.timestamp}.${input.body}`)
    .digest("base64");
  return {
    "webhook-id": input.id,
    "webhook-timestamp": String(input.timestamp),
    "webhook-signature": `v1,${signature}`,
  };
}
