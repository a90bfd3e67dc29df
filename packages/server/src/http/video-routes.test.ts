import fs from "node:fs/promises";
import { keys, type LocalStorage, loadConfig, type QueueBus, type VideoUploaded } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { playableEvent, readyEvent, signUp, type TestUser, uploadAs } from "../../test/factories.js";
import { startTestApp } from "../../test/test-app.js";
import { createQueueBus } from "../bus/create-bus.js";
import { OutboxRepository } from "../catalog/outbox.js";
import { createTestDatabase, type TestDatabase } from "../db/test-databases.js";
import { type ServerWork, startServerWork } from "../server-work.js";

let tdb: TestDatabase;
let app: FastifyInstance;
let base: string;
let storage: LocalStorage;
let bus: QueueBus;
let work: ServerWork;
const uploaded: VideoUploaded[] = [];
let owner: TestUser;

beforeAll(async () => {
  tdb = await createTestDatabase("embedded");
  const env = { REELKIT_PUBLIC_URL: "https://cdn.example" };
  const config = loadConfig({ REELKIT_DATA_DIR: tdb.dataDir, ...env });
  const queue = await createQueueBus(config, tdb.db);
  bus = queue.bus as QueueBus;
  await bus.subscribe("test-transcoder", {
    "video.uploaded": async (e) => {
      uploaded.push(e);
    },
  });
  const started = await startTestApp({ tdb, env, deps: { bus } });
  ({ app, base, storage } = started);
  work = await startServerWork({
    config,
    catalog: started.catalog,
    outbox: new OutboxRepository(tdb.db.prisma),
    bus,
    busOwns: queue.owns,
  });
  owner = await signUp(base);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await work?.stop();
  await bus?.close();
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
  // The server's consumer applies the queued events in order: wait until it has these.
  if (whilePlayable) await vi.waitFor(whilePlayable, { timeout: 5000 });
  await storage.put(keys.poster(videoId), Buffer.from("jpg"));
  await bus.publish("video.transcode.ready", readyEvent(videoId, event.attempt));
  // Publishing queues the events; the server's consumer applies them.
  await vi.waitFor(
    async () => expect((await (await fetch(`${base}/api/videos/${videoId}`)).json()).status).toBe("READY"),
    { timeout: 5000 },
  );
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
        phase: "ladder",
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
      phase: "complete",
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

  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const someId = "0b7c2f4e-8d7a-4a9e-9a57-1c1f6f0f3a10";
  it.each([
    ["a search offset of 1e21", "?q=x&cursor=eyJvIjoxZTIxfQ"],
    ["a search offset of 2^63", `?q=x&cursor=${b64({ o: 2 ** 63 })}`],
    ["a list cursor dated year 0", `?cursor=${b64({ p: "0000-01-01T00:00:00.000Z", i: someId })}`],
    ["a list cursor dated year -1", `?cursor=${b64({ p: "-000001-01-01T00:00:00.000Z", i: someId })}`],
    ["a keyset cursor dated year 0", `?cursor=${b64({ m: "l", s: "newest", k: -62167219200000, i: someId })}`],
    ["a keyset cursor dated year -1", `?cursor=${b64({ m: "l", s: "newest", k: -62198755200000, i: someId })}`],
    ["a keyset cursor beyond year 9999", `?cursor=${b64({ m: "l", s: "newest", k: 1e21, i: someId })}`],
    ["a view-count cursor of 2^63", `?sort=views&cursor=${b64({ m: "l", s: "views", k: 2 ** 63, i: someId })}`],
    ["a search score cursor of 1e21", `?q=x&cursor=${b64({ m: "s", s: "relevance", k: 1e21, i: someId })}`],
    ["a list cursor used for a search", `?q=x&cursor=${b64({ m: "l", s: "newest", k: 0, i: someId })}`],
    ["a cursor of another sort", `?sort=oldest&cursor=${b64({ m: "l", s: "newest", k: 0, i: someId })}`],
    ["a cursor that is not base64url JSON", "?cursor=%7B%7D"],
  ])("a cursor the server did not issue (%s) is a 400 VALIDATION_FAILED", async (_name, query) => {
    const res = await fetch(`${base}/api/videos${query}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: "VALIDATION_FAILED", message: "Invalid cursor" } });
  });

  it.each([
    ["an unparsable date", "?publishedAfter=yesterday"],
    ["a date before the epoch", "?publishedBefore=0000-01-01"],
    ["an unknown duration bucket", "?duration=epic"],
    ["a negative minimum duration", "?minDuration=-1"],
    ["relevance without a query", "?sort=relevance"],
    ["an unknown sort", "?sort=random"],
    ["too many tags", `?tags=${Array.from({ length: 21 }, (_, i) => `t${i}`).join(",")}`],
  ])("a bad filter (%s) is a 400 VALIDATION_FAILED", async (_name, query) => {
    const res = await fetch(`${base}/api/videos${query}`);
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("VALIDATION_FAILED");
  });

  it("filters and sorts through the query string, edits tags and suggests titles", async () => {
    const id = await uploadVideo("Zebra crossing timelapse", "Traffic in Tokyo");
    await vi.waitFor(() => expect(uploaded.map((e) => e.videoId)).toContain(id), { timeout: 5000 });
    await transcode(id);
    const patched = await fetch(`${base}/api/videos/${id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", ...owner.headers },
      body: JSON.stringify({ tags: ["Street", "timelapse", "street"] }),
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ tags: ["street", "timelapse"], viewCount: 0 });
    const ids = async (query: string) =>
      ((await (await fetch(`${base}/api/videos${query}`)).json()) as { items: { id: string }[] }).items.map(
        (v) => v.id,
      );
    expect(await ids("?tags=street,timelapse&duration=short&minHeight=180")).toEqual([id]);
    expect(await ids("?q=zebra&tags=street&publishedAfter=2020-01-01&sort=newest")).toEqual([id]);
    expect(await ids("?tags=street&minHeight=1080")).toEqual([]);
    expect(await ids("?q=zebra&publishedBefore=2020-01-01T00:00:00Z")).toEqual([]);
    // The caller's own list takes none of them (it would answer them unfiltered).
    for (const query of ["q=zebra", "tags=street", "sort=oldest", "minHeight=720"]) {
      const mine = await fetch(`${base}/api/videos?mine=1&${query}`, { headers: owner.headers });
      expect(mine.status, query).toBe(400);
      expect(((await mine.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_FAILED");
    }
    const mine = await fetch(`${base}/api/videos?mine=1`, { headers: owner.headers });
    expect(((await mine.json()) as { items: { id: string }[] }).items.map((v) => v.id)).toContain(id);
    const suggest = await fetch(`${base}/api/videos/suggestions?q=zebra%20c`);
    expect(suggest.status).toBe(200);
    expect(await suggest.json()).toEqual({ suggestions: ["Zebra crossing timelapse"] });
    // The same for everyone: a shared cache may keep an anonymous answer briefly, never a signed-in one.
    expect(suggest.headers.get("cache-control")).toBe("public, max-age=5, stale-while-revalidate=30");
    const signedIn = await fetch(`${base}/api/videos/suggestions?q=zebra`, { headers: owner.headers });
    expect(await signedIn.json()).toEqual({ suggestions: ["Zebra crossing timelapse"] });
    expect(signedIn.headers.get("cache-control")).toBe("private, no-cache");
    const empty = await fetch(`${base}/api/videos/suggestions`);
    expect(empty.status).toBe(400);
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
    let text = "";
    const reading = (async () => {
      const decoder = new TextDecoder();
      // Ends only because the server closes the stream.
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true });
    })();
    await new Promise((r) => setTimeout(r, 100));
    // The stream re-reads the video on each change and so reports its latest state: READY comes
    // once the stream has told the playable one.
    await transcode(id, async () => expect(text).toContain('"playable":true'));
    await reading;
    const events = text
      .split("\n\n")
      .filter((b) => b.startsWith("event: status"))
      .map((b) => JSON.parse(b.split("data: ")[1] as string));
    expect(events[0]).toMatchObject({ videoId: id, status: "QUEUED", playable: false, phase: "queued" });
    expect(events.map((e) => e.status)).toContain("PROCESSING");
    // The stream says when a processing video starts to play, before READY.
    const firstPlayable = events.findIndex((e) => e.playable);
    expect(events[firstPlayable]).toMatchObject({ status: "PROCESSING", playable: true, phase: "ladder" });
    expect(firstPlayable).toBeLessThan(events.length - 1);
    expect(events.at(-1)).toMatchObject({ videoId: id, status: "READY", progress: 100 });
  });

  it("takes JSON bodies as they are typed: a number is no title, and the body limit has its own code", async () => {
    const id = await uploadVideo("Typed", "");
    const patch = (body: string) =>
      fetch(`${base}/api/videos/${id}`, { method: "PATCH", headers: { "content-type": "application/json" }, body });
    const number = await patch(JSON.stringify({ title: 5 }));
    expect(number.status).toBe(400);
    expect((await number.json()).error.code).toBe("VALIDATION_FAILED");
    const huge = await patch(JSON.stringify({ description: "x".repeat(1024 * 1024 + 10) }));
    expect(huge.status).toBe(413);
    expect(await huge.json()).toEqual({
      error: { code: "BODY_TOO_LARGE", message: "The request body exceeds the limit of 1048576 bytes" },
    });
    // Querystrings are text: their numbers are still coerced.
    expect((await fetch(`${base}/api/videos?limit=2`)).status).toBe(200);
    expect((await (await fetch(`${base}/api/videos/${id}`)).json()).title).toBe("Typed");
  });

  it("answers an undeclared method with 405 and Allow, in the error shape", async () => {
    const put = await fetch(`${base}/api/videos/00000000-0000-4000-8000-000000000000`, { method: "PUT" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, HEAD, PATCH, DELETE");
    expect((await put.json()).error.code).toBe("METHOD_NOT_ALLOWED");
    const list = await fetch(`${base}/api/videos`, { method: "DELETE" });
    expect(list.status).toBe(405);
    expect(list.headers.get("allow")).toBe("GET, HEAD");
    const upload = await fetch(`${base}/api/uploads/00000000-0000-4000-8000-000000000000`, { method: "PUT" });
    expect(upload.status).toBe(405);
    expect((await upload.json()).error.code).toBe("METHOD_NOT_ALLOWED");
    // No route at all is still a 404.
    const none = await fetch(`${base}/api/nothing-here`, { method: "PUT" });
    expect(none.status).toBe(404);
  });

  it("ends an upload whose video is deleted while it runs, and leaves no file behind", async () => {
    const head = (id: string) =>
      fetch(`${base}/api/uploads/${id}`, { method: "HEAD", headers: { ...owner.bearer, "Tus-Resumable": "1.0.0" } });
    const patch = (id: string, offset: number, body: Buffer) =>
      fetch(`${base}/api/uploads/${id}`, {
        method: "PATCH",
        headers: {
          ...owner.bearer,
          "Tus-Resumable": "1.0.0",
          "Upload-Offset": String(offset),
          "Content-Type": "application/offset+octet-stream",
        },
        body: new Uint8Array(body),
      });
    const created = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { ...owner.bearer, "Tus-Resumable": "1.0.0", "Upload-Length": "8" },
    });
    const id = created.headers.get("reelkit-video-id") as string;
    expect((await patch(id, 0, Buffer.from("half"))).status).toBe(204);
    expect((await fetch(`${base}/api/videos/${id}`, { method: "DELETE", headers: owner.bearer })).status).toBe(204);
    // The rest of the upload is refused, and nothing reappears on disk.
    const rest = await patch(id, 4, Buffer.from("rest"));
    expect([404, 410]).toContain(rest.status);
    expect((await rest.json()).error.code).toMatch(/^UPLOAD_(NOT_FOUND|GONE)$/);
    expect([404, 410]).toContain((await head(id)).status);
    expect(await storage.stat(keys.source(id))).toBeNull();
    expect(await storage.list(keys.videoPrefix(id))).toEqual([]);
    expect(await storage.stat(keys.upload(id))).toBeNull();
    expect(await storage.stat(`${keys.upload(id)}.json`)).toBeNull();
    expect((await fetch(`${base}/api/videos/${id}`)).status).toBe(404);
  });

  it("deleting a finished video also removes its kept tus upload (no hard link holds its bytes)", async () => {
    const id = await uploadVideo("Kept upload", "");
    expect(await storage.stat(keys.upload(id))).not.toBeNull();
    expect((await fetch(`${base}/api/videos/${id}`, { method: "DELETE", headers: owner.bearer })).status).toBe(204);
    expect(await storage.stat(keys.upload(id))).toBeNull();
    expect(await storage.stat(`${keys.upload(id)}.json`)).toBeNull();
    const head = await fetch(`${base}/api/uploads/${id}`, {
      method: "HEAD",
      headers: { ...owner.bearer, "Tus-Resumable": "1.0.0" },
    });
    expect(head.status).toBe(404);
  });

  it("tells a waiting video's place in the queue, in fair turns between owners; its stream follows the queue", async () => {
    const other = await signUp(base);
    const mine = [
      await uploadVideo("Queued 1", ""),
      await uploadVideo("Queued 2", ""),
      await uploadVideo("Queued 3", ""),
    ];
    const theirs = await uploadAs(base, other.headers, { title: "Another owner's one" });
    const placeOf = async (id: string) => (await (await fetch(`${base}/api/videos/${id}`)).json()).queuePosition;
    const [m1, m2, m3, t] = [
      await placeOf(mine[0] as string),
      await placeOf(mine[1] as string),
      await placeOf(mine[2] as string),
      await placeOf(theirs),
    ];
    // Owners take turns: the other owner's single upload goes before this owner's three (who
    // also has older ones waiting), and this owner's go in upload order.
    expect(t).toBeGreaterThanOrEqual(1);
    expect([t < m1, m1 < m2, m2 < m3]).toEqual([true, true, true]);
    const list = await (await fetch(`${base}/api/videos?mine=1`, { headers: owner.bearer })).json();
    expect(list.items.find((v: { id: string }) => v.id === mine[2])).toMatchObject({
      phase: "queued",
      queuePosition: m3,
    });

    const res = await fetch(`${base}/api/videos/${mine[2]}/events`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const events = () =>
      text
        .split("\n\n")
        .filter((b) => b.startsWith("event: status"))
        .map((b) => JSON.parse(b.split("data: ")[1] as string));
    const readUntil = async (ok: (e: { queuePosition: number | null }) => boolean) => {
      while (!events().some(ok)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil((e) => e.queuePosition === m3);
    // The other owner's video starts: every one behind it moves up, and the stream says so.
    await vi.waitFor(() => expect(uploaded.map((e) => e.videoId)).toContain(theirs), { timeout: 5000 });
    const attempt = uploaded.find((e) => e.videoId === theirs)?.attempt as number;
    await bus.publish("video.transcode.progress", { videoId: theirs, attempt, percent: 5, stage: "encoding" });
    await readUntil((e) => e.queuePosition === m3 - 1);
    expect(events().at(-1)).toMatchObject({
      videoId: mine[2],
      status: "QUEUED",
      phase: "queued",
      queuePosition: m3 - 1,
    });
    await reader.cancel();
    expect(await (await fetch(`${base}/api/videos/${theirs}`)).json()).toMatchObject({
      status: "PROCESSING",
      phase: "playable",
      queuePosition: null,
    });
  });

  it("404s unknown and malformed ids", async () => {
    for (const id of ["00000000-0000-4000-8000-000000000000", "not-a-uuid"]) {
      const res = await fetch(`${base}/api/videos/${id}`);
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe("VIDEO_NOT_FOUND");
    }
  });
});
