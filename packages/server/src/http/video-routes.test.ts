import fs from "node:fs/promises";
import path from "node:path";
import { InProcessBus, keys, LocalStorage, loadConfig, type VideoUploaded } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { testAuth } from "../../test/auth.js";
import { playableEvent, readyEvent, signUp, type TestUser, uploadAs } from "../../test/factories.js";
import { buildApp } from "../app.js";
import { CatalogService } from "../catalog/catalog-service.js";
import { OutboxRepository } from "../catalog/outbox.js";
import { createTestDatabase, type TestDatabase } from "../db/test-databases.js";

let tdb: TestDatabase;
let app: FastifyInstance;
let base: string;
let storage: LocalStorage;
let bus: InProcessBus;
const uploaded: VideoUploaded[] = [];
let owner: TestUser;

beforeAll(async () => {
  tdb = await createTestDatabase("embedded");
  storage = new LocalStorage(path.join(tdb.dataDir, "media"));
  bus = new InProcessBus();
  await bus.subscribe("test-transcoder", {
    "video.uploaded": async (e) => {
      uploaded.push(e);
    },
  });
  const config = loadConfig({
    REELKIT_DATA_DIR: tdb.dataDir,
    REELKIT_LOG_LEVEL: "silent",
    REELKIT_PUBLIC_URL: "https://cdn.example",
  });
  const catalog = new CatalogService(tdb.db.prisma);
  const auth = testAuth(tdb.db.prisma, config);
  app = await buildApp({ config, storage, catalog, auth, bus, outbox: new OutboxRepository(tdb.db.prisma) });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  owner = await signUp(base);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await tdb?.dispose();
});

function uploadVideo(title: string, description: string): Promise<string> {
  return uploadAs(base, owner.headers, { title, description });
}

/** The transcoder's events: progress, playable (every rendition started), progress, ready. */
async function transcode(videoId: string, whilePlayable?: () => Promise<void>): Promise<void> {
  const event = uploaded.find((e) => e.videoId === videoId);
  if (!event) throw new Error("not uploaded");
  await storage.put(keys.master(videoId), Buffer.from("#EXTM3U\n"));
  const progress = (percent: number) =>
    bus.publish("video.transcode.progress", { videoId, attempt: event.attempt, percent, stage: "encoding" });
  await progress(10);
  await bus.publish("video.transcode.playable", playableEvent(videoId, event.attempt));
  await progress(50);
  await whilePlayable?.();
  await storage.put(keys.poster(videoId), Buffer.from("jpg"));
  await bus.publish("video.transcode.ready", readyEvent(videoId, event.attempt));
}

describe("/api/videos", () => {
  it("relays a finished upload to the bus and applies transcoder events", async () => {
    const id = await uploadVideo("Sunset over the harbour", "Boats at dusk");
    const queued = await (await fetch(`${base}/api/videos/${id}`)).json();
    expect(["QUEUED", "PROCESSING", "READY"]).toContain(queued.status);
    await vi.waitFor(() => expect(uploaded.map((e) => e.videoId)).toContain(id), { timeout: 5000 });
    await transcode(id, async () => {
      // Still processing, already playable: the master URL is handed out, rates are nominal.
      const processing = await (await fetch(`${base}/api/videos/${id}`)).json();
      expect(processing).toMatchObject({
        status: "PROCESSING",
        progress: 50,
        playable: true,
        playbackUrl: `https://cdn.example/media/videos/${id}/hls/master.m3u8`,
        posterUrl: null,
        duration: 3,
        publishedAt: null,
      });
      expect(processing.renditions.map((r: { bandwidth: number }) => r.bandwidth)).toEqual([578_000]);
    });
    const res = await fetch(`${base}/api/videos/${id}`);
    expect(res.status).toBe(200);
    const v = await res.json();
    expect(v).toMatchObject({
      id,
      title: "Sunset over the harbour",
      description: "Boats at dusk",
      ownerId: owner.id,
      visibility: "PUBLIC",
      status: "READY",
      progress: 100,
      playable: true,
      duration: 3,
      width: 320,
      height: 180,
      playbackUrl: `https://cdn.example/media/videos/${id}/hls/master.m3u8`,
      posterUrl: `https://cdn.example/media/videos/${id}/poster.jpg`,
    });
    expect(v.renditions).toEqual([
      {
        name: "180p",
        width: 320,
        height: 180,
        bandwidth: 300000,
        averageBandwidth: 250000,
        codecs: "avc1.64000d,mp4a.40.2",
        frameRate: 25,
      },
    ]);
  });

  it("lists READY videos newest first with cursor pagination and finds a misspelt title", async () => {
    const a = await uploadVideo("Mountain lake", "Calm water");
    const b = await uploadVideo("Desert highway", "Long road");
    await vi.waitFor(() => expect(uploaded.map((e) => e.videoId)).toEqual(expect.arrayContaining([a, b])), {
      timeout: 5000,
    });
    await transcode(a);
    await transcode(b);
    const first = await (await fetch(`${base}/api/videos?limit=1`)).json();
    expect(first.items.map((v: { id: string }) => v.id)).toEqual([b]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await (
      await fetch(`${base}/api/videos?limit=1&cursor=${encodeURIComponent(first.nextCursor)}`)
    ).json();
    expect(second.items.map((v: { id: string }) => v.id)).toEqual([a]);
    const found = await (await fetch(`${base}/api/videos?q=mountian`)).json();
    expect(found.items.map((v: { id: string }) => v.id)).toContain(a);
    const bad = await fetch(`${base}/api/videos?limit=101`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("VALIDATION_FAILED");
  });

  it("patches title/description and validates the body", async () => {
    const id = await uploadVideo("Old", "");
    const res = await fetch(`${base}/api/videos/${id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", ...owner.headers },
      body: JSON.stringify({ title: "New title" }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).title).toBe("New title");
    const bad = await fetch(`${base}/api/videos/${id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", ...owner.headers },
      body: JSON.stringify({ owner: "me" }),
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("VALIDATION_FAILED");
    // PostgreSQL text cannot hold NUL: a clear 400, not a database error (found by schemathesis).
    for (const body of [{ title: "a\u0000b" }, { description: "\u0000" }]) {
      const nul = await fetch(`${base}/api/videos/${id}`, {
        method: "PATCH",
        headers: { "content-type": "application/json", ...owner.headers },
        body: JSON.stringify(body),
      });
      expect(nul.status).toBe(400);
      expect((await nul.json()).error.code).toBe("VALIDATION_FAILED");
    }
    const nulSearch = await fetch(`${base}/api/videos?q=${encodeURIComponent("a\u0000")}`);
    expect(nulSearch.status).toBe(400);
    expect((await (await fetch(`${base}/api/videos/${id}`)).json()).title).toBe("New title");
  });

  it("deletes the video and every file it has", async () => {
    const id = await uploadVideo("To delete", "");
    await vi.waitFor(() => expect(uploaded.map((e) => e.videoId)).toContain(id), { timeout: 5000 });
    await transcode(id);
    expect((await storage.list(keys.videoPrefix(id))).length).toBeGreaterThan(0);
    const del = await fetch(`${base}/api/videos/${id}`, { method: "DELETE", headers: owner.bearer });
    expect(del.status).toBe(204);
    expect(await storage.list(keys.videoPrefix(id))).toEqual([]);
    const gone = await fetch(`${base}/api/videos/${id}`);
    expect(gone.status).toBe(404);
    expect((await gone.json()).error.code).toBe("VIDEO_NOT_FOUND");
    await expect(fs.stat(storage.localPath(keys.source(id)))).rejects.toThrow();
  });

  it("streams status events over SSE and closes after READY", async () => {
    const id = await uploadVideo("Streamed", "");
    await vi.waitFor(() => expect(uploaded.map((e) => e.videoId)).toContain(id), { timeout: 5000 });
    const res = await fetch(`${base}/api/videos/${id}/events`);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reading = res.text();
    await new Promise((r) => setTimeout(r, 100));
    await transcode(id);
    const text = await reading; // resolves only because the server closes the stream
    const events = text
      .split("\n\n")
      .filter((b) => b.startsWith("event: status"))
      .map((b) => JSON.parse(b.split("data: ")[1] as string));
    expect(events[0]).toMatchObject({ videoId: id, status: "QUEUED", playable: false });
    expect(events.map((e) => e.status)).toContain("PROCESSING");
    // The stream says when a processing video starts to play, before READY.
    const firstPlayable = events.findIndex((e) => e.playable);
    expect(events[firstPlayable]).toMatchObject({ status: "PROCESSING", playable: true });
    expect(firstPlayable).toBeLessThan(events.length - 1);
    expect(events.at(-1)).toMatchObject({ videoId: id, status: "READY", progress: 100 });
  });

  it("404s unknown and malformed ids", async () => {
    for (const id of ["00000000-0000-4000-8000-000000000000", "not-a-uuid"]) {
      const res = await fetch(`${base}/api/videos/${id}`);
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe("VIDEO_NOT_FOUND");
    }
  });
});
