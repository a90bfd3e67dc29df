import { type Bus, kafkaBusFromConfig } from "@reelkit/core";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { describeWith, kafkaBrokers, kafkaMissing } from "../../../test/engines.js";
import { verifyWebhook } from "../../sdk/src/webhooks.js";
import { createQueueBus } from "../src/bus/create-bus.js";
import { OutboxRepository } from "../src/catalog/outbox.js";
import { postgresMissing } from "../src/db/test-databases.js";
import { type ServerWork, startServerWork } from "../src/server-work.js";
import { startWebhookWork, type WebhookWork } from "../src/webhooks/webhook-dispatcher.js";
import { createApiKey, readyEvent, signUp, type TestUser, uploadAs } from "./factories.js";
import { startTestApp, type TestApp } from "./test-app.js";
import { WebhookReceiver } from "./webhook-receiver.js";

/** Events travel on the bus: the same suite over the job queue in PostgreSQL and over Kafka. */
function webhookSuite(busKind: "queue" | "kafka") {
  let t: TestApp;
  let bus: Bus;
  let work: ServerWork;
  let hooks: WebhookWork;
  let alice: TestUser;
  let bob: TestUser;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      engine: "postgres",
      env: {
        REELKIT_WEBHOOK_ALLOW_PRIVATE: "true",
        REELKIT_WEBHOOK_RETRY_SCHEDULE: "1s,1s",
        REELKIT_WEBHOOK_TIMEOUT: "2s",
        ...(busKind === "kafka"
          ? { KAFKA_BROKERS: kafkaBrokers.join(","), REELKIT_KAFKA_TOPIC_PREFIX: `hooks-${Date.now()}-` }
          : {}),
      },
    });
    const runtimeBus =
      busKind === "kafka"
        ? { bus: await kafkaBusFromConfig(t.config), owns: null }
        : await createQueueBus(t.config, t.tdb.db);
    bus = runtimeBus.bus;
    work = await startServerWork({
      config: t.config,
      catalog: t.catalog,
      outbox: new OutboxRepository(t.prisma),
      bus,
      busOwns: runtimeBus.owns,
      relayIntervalMs: 200,
    });
    hooks = await startWebhookWork({ config: t.config, webhooks: t.webhooks, bus, pollMs: 200 });
    alice = await signUp(t.base);
    bob = await signUp(t.base);
  }, 120_000);

  afterAll(async () => {
    await hooks?.stop();
    await work?.stop();
    await bus?.close();
    await Promise.all(receivers.map((r) => r.down()));
    await t?.close();
  });

  const receiver = async () => {
    const r = new WebhookReceiver();
    await r.up();
    receivers.push(r);
    return r;
  };
  const api = async (path: string, init: { method?: string; auth: Record<string, string>; body?: unknown }) => {
    const res = await fetch(`${t.base}${path}`, {
      method: init.method ?? "GET",
      headers: { ...init.auth, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  it("registers endpoints by session or API key, shows the secret once, and keeps owners apart", async () => {
    const r = await receiver();
    const created = await api("/api/webhooks", {
      method: "POST",
      auth: alice.bearer,
      body: { url: r.url, events: ["video.ready", "video.failed"] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ url: r.url, events: ["video.ready", "video.failed"], enabled: true });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const key = await createApiKey(t.base, alice);
    const byKey = await api("/api/webhooks", {
      method: "POST",
      auth: { authorization: `Bearer ${key.key}` },
      body: { url: r.url, events: ["video.created"] },
    });
    expect(byKey.status).toBe(201);

    const list = await api("/api/webhooks", { auth: alice.bearer });
    expect(list.body.items.map((e: { id: string }) => e.id).sort()).toEqual([created.body.id, byKey.body.id].sort());
    expect(JSON.stringify(list.body)).not.toContain("whsec_");

    // Bob sees none of them and changes none of them.
    expect((await api("/api/webhooks", { auth: bob.bearer })).body.items).toEqual([]);
    expect((await api(`/api/webhooks/${created.body.id}`, { auth: bob.bearer })).status).toBe(404);
    const bobPatch = await api(`/api/webhooks/${created.body.id}`, {
      method: "PATCH",
      auth: bob.bearer,
      body: { enabled: false },
    });
    expect(bobPatch.status).toBe(404);
    expect((await api(`/api/webhooks/${created.body.id}`, { method: "DELETE", auth: bob.bearer })).status).toBe(404);
    expect((await api(`/api/webhooks/${created.body.id}/deliveries`, { auth: bob.bearer })).status).toBe(404);

    const patched = await api(`/api/webhooks/${created.body.id}`, {
      method: "PATCH",
      auth: alice.bearer,
      body: { events: ["video.deleted"], enabled: false },
    });
    expect(patched.body).toMatchObject({
      events: ["video.deleted"],
      enabled: false,
      disabledReason: "Disabled by its owner",
    });
    expect((await api(`/api/webhooks/${created.body.id}`, { method: "DELETE", auth: alice.bearer })).status).toBe(204);
    expect((await api(`/api/webhooks/${byKey.body.id}`, { method: "DELETE", auth: alice.bearer })).status).toBe(204);
    expect((await api("/api/webhooks", { auth: alice.bearer })).body.items).toEqual([]);

    // Bad input: 400 with a stable code, nothing written.
    const bad = await api("/api/webhooks", {
      method: "POST",
      auth: alice.bearer,
      body: { url: r.url, events: ["video.nope"] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("VALIDATION_FAILED");
    expect(
      (await api("/api/webhooks", { method: "POST", auth: {}, body: { url: r.url, events: ["video.ready"] } })).status,
    ).toBe(401);
    expect((await api("/api/webhooks", { auth: alice.bearer })).body.items).toEqual([]);
  });

  it("refuses loopback, private and metadata URLs with WEBHOOK_URL_REFUSED when private addresses are not allowed", async () => {
    const strict = await startTestApp({ tdb: t.tdb });
    try {
      for (const url of [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://169.254.169.254/",
        "http://[::1]/x",
      ]) {
        const res = await fetch(`${strict.base}/api/webhooks`, {
          method: "POST",
          headers: { ...alice.bearer, "content-type": "application/json" },
          body: JSON.stringify({ url, events: ["video.ready"] }),
        });
        expect(res.status, url).toBe(400);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("WEBHOOK_URL_REFUSED");
      }
    } finally {
      await strict.app.close();
    }
  });

  it("delivers a video's events signed, in order, with the video as the API returns it", {
    timeout: 90_000,
  }, async () => {
    const r = await receiver();
    const created = await api("/api/webhooks", {
      method: "POST",
      auth: alice.bearer,
      body: {
        url: r.url,
        events: ["video.created", "video.uploaded", "video.updated", "video.ready", "video.deleted"],
      },
    });
    const secret = created.body.secret as string;
    const videoId = await uploadAs(t.base, alice.bearer, { filename: "clip.mp4" });
    for (const title of ["one", "two", "three"]) {
      expect(
        (await api(`/api/videos/${videoId}`, { method: "PATCH", auth: alice.bearer, body: { title } })).status,
      ).toBe(200);
    }
    await t.catalog.transcodes.applyReady(readyEvent(videoId, 1));
    expect((await api(`/api/videos/${videoId}`, { method: "DELETE", auth: alice.bearer })).status).toBe(204);

    await vi.waitFor(() => expect(r.acceptedIds()).toHaveLength(7), { timeout: 60_000, interval: 100 });
    const events = r.acceptedEvents();
    expect(events.map((e) => e.type)).toEqual([
      "video.created",
      "video.uploaded",
      "video.updated",
      "video.updated",
      "video.updated",
      "video.ready",
      "video.deleted",
    ]);
    expect(events.slice(2, 5).map((e) => e.data.title)).toEqual(["one", "two", "three"]);
    expect(events.every((e) => e.data.id === videoId)).toBe(true);
    expect(events[5]?.data).toMatchObject({ status: "READY", playable: true });
    for (const request of r.received) {
      const verified = verifyWebhook(
        request.body,
        { "webhook-id": request.id, "webhook-timestamp": request.timestamp, "webhook-signature": request.signature },
        secret,
      );
      expect(verified.id).toBe(request.id);
    }
    // Bob's endpoint hears nothing of Alice's video.
    const log = await api(`/api/webhooks/${created.body.id}/deliveries`, { auth: alice.bearer });
    expect(log.body.items).toHaveLength(7);
    expect(log.body.items.every((d: { status: string }) => d.status === "DELIVERED")).toBe(true);
    expect(log.body.items.map((d: { webhookId: string }) => d.webhookId).reverse()).toEqual(r.acceptedIds());
    await api(`/api/webhooks/${created.body.id}`, { method: "DELETE", auth: alice.bearer });
  });

  it("retries a failing receiver on the schedule, then disables the endpoint with the reason; redelivery keeps the webhook-id", {
    timeout: 90_000,
  }, async () => {
    const r = await receiver();
    r.answer = () => 500;
    const created = await api("/api/webhooks", {
      method: "POST",
      auth: bob.bearer,
      body: { url: r.url, events: ["video.created"] },
    });
    const id = created.body.id as string;
    await uploadAs(t.base, bob.bearer, { filename: "clip.mp4" });
    // 1 attempt + 2 retries (REELKIT_WEBHOOK_RETRY_SCHEDULE=1s,1s), then disabled.
    await vi.waitFor(
      async () => expect((await api(`/api/webhooks/${id}`, { auth: bob.bearer })).body.enabled).toBe(false),
      { timeout: 60_000, interval: 200 },
    );
    const endpoint = (await api(`/api/webhooks/${id}`, { auth: bob.bearer })).body;
    expect(endpoint.disabledReason).toMatch(/Disabled after 3 failed attempts .* \(last: HTTP 500\)/);
    expect(r.received).toHaveLength(3);
    expect(new Set(r.received.map((x) => x.id)).size).toBe(1);
    const gaps = r.received.slice(1).map((x, i) => x.receivedAt - (r.received[i]?.receivedAt ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(900);

    const log = (await api(`/api/webhooks/${id}/deliveries`, { auth: bob.bearer })).body.items;
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ status: "FAILED", attempts: 3, lastStatusCode: 500, type: "video.created" });

    const refused = await api(`/api/webhooks/${id}/deliveries/${log[0].id}/redeliver`, {
      method: "POST",
      auth: bob.bearer,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("WEBHOOK_DISABLED");
    r.answer = () => 204;
    expect(
      (await api(`/api/webhooks/${id}`, { method: "PATCH", auth: bob.bearer, body: { enabled: true } })).body,
    ).toMatchObject({ enabled: true, disabledReason: null });
    const again = await api(`/api/webhooks/${id}/deliveries/${log[0].id}/redeliver`, {
      method: "POST",
      auth: bob.bearer,
    });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ status: "PENDING", webhookId: log[0].webhookId });
    await vi.waitFor(() => expect(r.acceptedIds()).toEqual([log[0].webhookId]), { timeout: 30_000, interval: 100 });
    expect(
      (await api(`/api/webhooks/${id}/deliveries/999999/redeliver`, { method: "POST", auth: bob.bearer })).status,
    ).toBe(404);
    expect(
      (await api(`/api/webhooks/${id}/deliveries/${log[0].id}/redeliver`, { method: "POST", auth: alice.bearer }))
        .status,
    ).toBe(404);
  });
}

describeWith("postgres", postgresMissing, "webhooks (PostgreSQL, job queue bus)", () => webhookSuite("queue"));
describeWith("kafka", postgresMissing ?? kafkaMissing, "webhooks (PostgreSQL, Kafka bus)", () => webhookSuite("kafka"));
