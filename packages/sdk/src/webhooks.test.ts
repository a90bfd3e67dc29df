import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifyWebhook, WebhookVerificationError } from "./webhooks.js";

const secret = `whsec_${Buffer.from("a secret of thirty-two bytes!!!!").toString("base64")}`;
const body = JSON.stringify({ type: "video.ready", timestamp: "2026-12-07T00:00:00.000Z", data: { id: "v1" } });
const now = new Date("2026-12-07T00:00:10Z");
const ts = Math.floor(now.getTime() / 1000);

/** Signs as the spec says, independently of the code under test. */
function sign(id: string, timestamp: number, payload: string, key = secret): string {
  const bytes = Buffer.from(key.slice("whsec_".length), "base64");
  return `v1,${createHmac("sha256", bytes).update(`${id}.${timestamp}.${payload}`).digest("base64")}`;
}

const headers = (over: Record<string, string> = {}) => ({
  "webhook-id": "msg_1",
  "webhook-timestamp": String(ts),
  "webhook-signature": sign("msg_1", ts, body),
  ...over,
});

describe("verifyWebhook", () => {
  it("accepts a correctly signed delivery and returns its parsed body", () => {
    const event = verifyWebhook(body, headers(), secret, { now });
    expect(event).toMatchObject({ id: "msg_1", type: "video.ready", data: { id: "v1" } });
    expect(event.timestamp.getTime()).toBe(ts * 1000);
  });

  it("accepts bytes, Fetch Headers, upper-case names and one valid signature among several", () => {
    const h = new Headers(headers({ "webhook-signature": `v1,AAAA v2,xyz ${sign("msg_1", ts, body)}` }));
    expect(verifyWebhook(new TextEncoder().encode(body), h, secret, { now }).id).toBe("msg_1");
    const upper = {
      "Webhook-Id": "msg_1",
      "Webhook-Timestamp": String(ts),
      "Webhook-Signature": sign("msg_1", ts, body),
    };
    expect(verifyWebhook(body, upper, secret, { now }).id).toBe("msg_1");
  });

  it("refuses a changed body, id or timestamp, another secret, and missing headers", () => {
    const refuse = (payload: string, h: Record<string, string>, key = secret) =>
      expect(() => verifyWebhook(payload, h, key, { now })).toThrow(WebhookVerificationError);
    refuse(body.replace("v1", "v2"), headers());
    refuse(body, headers({ "webhook-id": "msg_2" }));
    refuse(body, headers({ "webhook-timestamp": String(ts - 1) }));
    refuse(body, headers(), `whsec_${Buffer.from("another secret").toString("base64")}`);
    refuse(body, { "webhook-id": "msg_1", "webhook-timestamp": String(ts) });
    refuse(body, headers({ "webhook-signature": "v1,not-base64-of-the-right-length" }));
  });

  it("refuses a timestamp outside the tolerance (replays), either way", () => {
    const old = ts - 301;
    expect(() =>
      verifyWebhook(
        body,
        headers({ "webhook-timestamp": String(old), "webhook-signature": sign("msg_1", old, body) }),
        secret,
        {
          now,
        },
      ),
    ).toThrow(/away from now/);
    const future = ts + 301;
    expect(() =>
      verifyWebhook(
        body,
        headers({ "webhook-timestamp": String(future), "webhook-signature": sign("msg_1", future, body) }),
        secret,
        { now },
      ),
    ).toThrow(/away from now/);
    expect(verifyWebhook(body, headers(), secret, { now: new Date(now.getTime() + 290_000) }).id).toBe("msg_1");
  });
});
