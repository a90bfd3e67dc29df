import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { describeWith } from "../../../test/engines.js";
import { verifyWebhook } from "../../sdk/src/webhooks.js";
import { createTestDatabase, postgresMissing, type TestDatabase } from "../src/db/test-databases.js";
import { TEST_SECRET } from "./auth.js";
import { signUp, type TestUser, uploadAs } from "./factories.js";
import { freePort, ServerProcess } from "./server-process.js";
import { WebhookReceiver } from "./webhook-receiver.js";

/** How long the receiver is down: the "a minute". */
const DOWN_MS = 60_000;

describeWith("postgres", postgresMissing, "webhooks survive a receiver down for a minute and a server crash", () => {
  let tdb: TestDatabase;
  let dataDir: string;
  let port: number;
  let server: ServerProcess | null = null;
  const receiver = new WebhookReceiver();

  const start = async () => {
    server = await ServerProcess.start({
      env: {
        PORT: String(port),
        REELKIT_DATA_DIR: dataDir,
        DATABASE_URL: tdb.url as string,
        REELKIT_SECRET: TEST_SECRET,
        REELKIT_TRANSCODER: "off",
        REELKIT_LOG_LEVEL: "warn",
        REELKIT_WEBHOOK_ALLOW_PRIVATE: "true",
        REELKIT_WEBHOOK_TIMEOUT: "2s",
        // Retries every 10 s once past the first few: the receiver's return is noticed soon.
        REELKIT_WEBHOOK_RETRY_SCHEDULE: "1s,2s,4s,8s,10s,10s,10s,10s,10s,10s,10s,60s",
      },
      port,
      startTimeoutMs: 120_000,
    });
    return server;
  };

  beforeAll(async () => {
    tdb = await createTestDatabase("postgres");
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-webhooks-"));
    port = await freePort();
    await receiver.up();
  }, 180_000);

  afterAll(async () => {
    await server?.destroy();
    await receiver.down();
    await tdb?.dispose();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it("delivers every event after the receiver comes back, across a SIGKILL and a restart, in order, duplicates with the same webhook-id", async () => {
    let s = await start();
    const user: TestUser = await signUp(s.base);
    const json = (auth: Record<string, string>) => ({ ...auth, "content-type": "application/json" });
    const created = await fetch(`${s.base}/api/webhooks`, {
      method: "POST",
      headers: json(user.bearer),
      body: JSON.stringify({ url: receiver.url, events: ["video.created", "video.uploaded", "video.updated"] }),
    });
    expect(created.status).toBe(201);
    const endpoint = (await created.json()) as { id: string; secret: string };
    const rename = async (base: string, id: string, title: string) => {
      const res = await fetch(`${base}/api/videos/${id}`, {
        method: "PATCH",
        headers: json(user.bearer),
        body: JSON.stringify({ title }),
      });
      expect(res.status).toBe(200);
    };

    // The first receipt of every event is answered 500: each is sent again, with the same id.
    const answered = new Set<string>();
    receiver.answer = (request) => {
      if (answered.has(request.id)) return 204;
      answered.add(request.id);
      return 500;
    };
    const first = await uploadAs(s.base, user.bearer, { filename: "a.mp4" });
    await rename(s.base, first, "t0");
    await vi.waitFor(() => expect(receiver.acceptedIds()).toHaveLength(3), { timeout: 30_000, interval: 100 });

    // The receiver goes down; events keep coming, before and after the server is killed.
    await receiver.down();
    const downAt = Date.now();
    for (const title of ["t1", "t2", "t3"]) await rename(s.base, first, title);
    const second = await uploadAs(s.base, user.bearer, { filename: "b.mp4" });
    await new Promise((r) => setTimeout(r, 4_000));
    await s.crash();
    s = await start();
    for (const title of ["t4", "t5"]) await rename(s.base, first, title);
    await rename(s.base, second, "u1");
    await new Promise((r) => setTimeout(r, Math.max(0, DOWN_MS - (Date.now() - downAt))));
    await receiver.up();

    const expected = 3 + 3 + 2 + 2 + 1;
    await vi.waitFor(() => expect(receiver.acceptedIds()).toHaveLength(expected), { timeout: 90_000, interval: 250 });

    const events = receiver.acceptedEvents();
    const titles = (id: string) =>
      events.filter((e) => e.data.id === id && e.type === "video.updated").map((e) => e.data.title);
    expect(titles(first)).toEqual(["t0", "t1", "t2", "t3", "t4", "t5"]);
    expect(titles(second)).toEqual(["u1"]);
    expect(events.filter((e) => e.data.id === second).map((e) => e.type)).toEqual([
      "video.created",
      "video.uploaded",
      "video.updated",
    ]);
    // Every receipt of an id carries the same body, correctly signed; duplicates happened.
    const bodies = new Map<string, string>();
    for (const r of receiver.received) {
      expect(bodies.get(r.id) ?? r.body).toBe(r.body);
      bodies.set(r.id, r.body);
      verifyWebhook(
        r.body,
        { "webhook-id": r.id, "webhook-timestamp": r.timestamp, "webhook-signature": r.signature },
        endpoint.secret,
      );
    }
    expect(receiver.received.length).toBeGreaterThanOrEqual(2 * expected);
    expect(bodies.size).toBe(expected);

    const log = await fetch(`${s.base}/api/webhooks/${endpoint.id}/deliveries`, { headers: user.bearer });
    const items = ((await log.json()) as { items: { status: string; webhookId: string }[] }).items;
    expect(items).toHaveLength(expected);
    expect(items.every((d) => d.status === "DELIVERED")).toBe(true);
    expect(new Set(items.map((d) => d.webhookId))).toEqual(new Set(bodies.keys()));
  }, 300_000);
});
