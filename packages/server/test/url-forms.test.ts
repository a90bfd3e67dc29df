/**
 * URL forms against every route that authorizes by id: a guard and a handler that read the id
 * from a request separately can be told two different ids (`/api/uploads/<mine>?/<yours>`).
 * Mallory sends her own ids, Alice's, and both in every form a parser might read differently;
 * she must never read, write or delete anything of Alice's, while her own canonical URLs work.
 */
import http from "node:http";
import path from "node:path";
import { text } from "node:stream/consumers";
import { LocalStorage } from "@reelkit/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, createCatalog } from "../src/catalog/catalog.js";
import { MediaSigner } from "../src/media/media-signing.js";
import { TEST_SECRET } from "./auth.js";
import { createApiKey, makeReadyVideo, mintUploadToken, signUp, type TestUser, tusCreate } from "./factories.js";
import { startTestApp, type TestApp } from "./test-app.js";

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One request with its path sent exactly as written (fetch and URL would normalise it). A
 * response still streaming after 2 s (an event stream) resolves with what arrived by then.
 */
function raw(
  base: string,
  method: string,
  rawPath: string,
  headers: Record<string, string>,
  body?: string,
): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path: rawPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      const done = () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() });
      };
      const timer = setTimeout(() => {
        done();
        req.destroy();
      }, 2000);
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", done);
      res.on("error", done);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Paths naming `mine` and `yours` together, and `yours` alone behind tricks, under `prefix`
 * (`/api/uploads/`, `/api/videos/`) and with `suffix` after the id (a media file's rest).
 */
function forms(prefix: string, mine: string, yours: string, suffix = ""): string[] {
  const m = `${mine}${suffix}`;
  const y = `${yours}${suffix}`;
  return [
    `${prefix}${m}?/${y}`,
    `${prefix}${m}?x=/${y}`,
    `${prefix}${m}?/../${y}`,
    `${prefix}${y}?/${m}`,
    `${prefix}${m}/${y}`,
    `${prefix}${m}/../${y}`,
    `${prefix}${m}/./../${y}`,
    `${prefix}./${y}`,
    `${prefix}${m}%2F..%2F${y}`,
    `${prefix}${m}%2f${y}`,
    `${prefix}${m};/${y}`,
    `${prefix}${m};${y}`,
    `${prefix}${m}//${y}`,
    `${prefix}/${y}`,
    `${prefix}${m}%3F/${y}`,
    `${prefix}${m}%23/${y}`,
    `${prefix}${m}/?/${y}`,
    `${prefix}${m}?${y}`,
    `${prefix}${m}#/${y}`,
  ];
}

let server: TestApp;
let base: string;
let storage: LocalStorage;
let catalog: Catalog;
let alice: TestUser;
let mallory: TestUser;

const TUS = { "Tus-Resumable": "1.0.0" };
const ALICE_LENGTH = 8;
const MALLORY_LENGTH = 16;
const ALICE_TITLE = "alice-private-title";

beforeAll(async () => {
  server = await startTestApp({
    env: {
      REELKIT_MAX_UNFINISHED_UPLOADS: "1000",
      REELKIT_UPLOAD_RATE_LIMIT: "1000/1m",
    },
  });
  base = server.base;
  storage = new LocalStorage(path.join(server.tdb.dataDir, "media"));
  catalog = createCatalog(server.prisma);
  alice = await signUp(base);
  mallory = await signUp(base);
}, 180_000);

afterAll(async () => {
  await server?.close();
});

/** An unfinished upload (4 bytes stored) of `length` bytes; returns its id. */
async function unfinishedUpload(auth: Record<string, string>, length: number, title: string): Promise<string> {
  const res = await tusCreate(base, { auth, metadata: { filename: "a.mp4", title }, length, body: "half" });
  expect(res.status).toBe(201);
  return res.headers.get("reelkit-video-id") as string;
}

async function uploadState(id: string, auth: Record<string, string>) {
  const res = await raw(base, "HEAD", `/api/uploads/${id}`, { ...TUS, ...auth });
  return { status: res.status, offset: res.headers["upload-offset"], length: res.headers["upload-length"] };
}

/** What an attacker's response may never carry of the victim's upload. */
function expectNothingOf(res: RawResponse, victimTitle: string): void {
  expect(res.status, "no success on a foreign or malformed upload URL").toBeGreaterThanOrEqual(400);
  expect(res.headers["upload-length"]).not.toBe(String(ALICE_LENGTH));
  expect(res.headers["upload-metadata"] ?? "").not.toContain(Buffer.from(victimTitle).toString("base64"));
  expect(res.body).not.toContain(victimTitle);
}

describe("tus URLs: one id, authorized and acted on", () => {
  for (const kind of ["user", "upload token"] as const) {
    it(`an attacker with a ${kind} never reads, writes or cancels a user's upload`, async () => {
      const victim = await unfinishedUpload(alice.bearer, ALICE_LENGTH, ALICE_TITLE);
      let attacker: Record<string, string> = mallory.bearer;
      if (kind === "upload token") {
        const key = await createApiKey(base, mallory, "forms");
        attacker = { authorization: `Bearer ${(await mintUploadToken(base, key.key)).token}` };
      }
      const own = await unfinishedUpload(attacker, MALLORY_LENGTH, "mallory");
      // Her own canonical URL works: what follows is refused for its form, not for her credentials.
      expect((await uploadState(own, attacker)).status).toBe(200);

      for (const form of forms("/api/uploads/", own, victim)) {
        const head = await raw(base, "HEAD", form, { ...TUS, ...attacker });
        expectNothingOf(head, ALICE_TITLE);
        const patch = await raw(
          base,
          "PATCH",
          form,
          { ...TUS, ...attacker, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream" },
          "EVILEVIL",
        );
        expectNothingOf(patch, ALICE_TITLE);
        const del = await raw(base, "DELETE", form, { ...TUS, ...attacker });
        expectNothingOf(del, ALICE_TITLE);
      }

      // Alice's upload is as she left it, and hers to finish.
      expect(await uploadState(victim, alice.bearer)).toEqual({
        status: 200,
        offset: "4",
        length: String(ALICE_LENGTH),
      });
      const finish = await raw(
        base,
        "PATCH",
        `/api/uploads/${victim}`,
        { ...TUS, ...alice.bearer, "Upload-Offset": "4", "Content-Type": "application/offset+octet-stream" },
        "rest",
      );
      expect(finish.status).toBe(204);
      const video = await server.prisma.video.findUniqueOrThrow({ where: { id: victim } });
      expect(video.ownerId).toBe(alice.id);
      expect(video.status).toBe("QUEUED");
      expect((await text(await storage.get(`videos/${victim}/source`))).toString()).toBe("halfrest");
      // And Mallory's own upload was never touched by the forms that named it first.
      expect((await uploadState(own, attacker)).offset).toBe("4");
    });
  }

  it("refuses a non-canonical URL with a stable code, before any upload is looked up", async () => {
    const own = await unfinishedUpload(mallory.bearer, MALLORY_LENGTH, "mallory");
    const res = await raw(base, "HEAD", `/api/uploads/${own}?x=1`, { ...TUS, ...mallory.bearer });
    expect(res.status).toBe(400);
    const patch = await raw(base, "PATCH", `/api/uploads/${own}?x=1`, {
      ...TUS,
      ...mallory.bearer,
      "Upload-Offset": "4",
      "Content-Type": "application/offset+octet-stream",
    });
    expect(patch.status).toBe(400);
    expect(JSON.parse(patch.body)).toMatchObject({ error: { code: "INVALID_UPLOAD_URL" } });
    const create = await raw(base, "POST", "/api/uploads?/x", { ...TUS, ...mallory.bearer, "Upload-Length": "4" });
    expect(create.status).toBe(400);
    const createBelow = await raw(base, "POST", `/api/uploads/${own}`, {
      ...TUS,
      ...mallory.bearer,
      "Upload-Length": "4",
    });
    expect(createBelow.status).toBe(400);
  });
});

describe("video URLs", () => {
  it("another user never reads, edits or deletes a private video through any URL form", async () => {
    const victim = await makeReadyVideo(catalog, { title: ALICE_TITLE, ownerId: alice.id, visibility: "PRIVATE" });
    const own = await makeReadyVideo(catalog, { title: "mallory's", ownerId: mallory.id, visibility: "PUBLIC" });
    const json = { ...mallory.bearer, "content-type": "application/json" };
    expect((await raw(base, "GET", `/api/videos/${own}`, mallory.bearer)).status).toBe(200);

    for (const form of forms("/api/videos/", own, victim)) {
      const get = await raw(base, "GET", form, mallory.bearer);
      expect(get.body, form).not.toContain(ALICE_TITLE);
      const patch = await raw(base, "PATCH", form, json, JSON.stringify({ title: "pwned" }));
      expect(patch.body, form).not.toContain(ALICE_TITLE);
      const del = await raw(base, "DELETE", form, mallory.bearer);
      expect(del.body, form).not.toContain(ALICE_TITLE);
    }
    for (const form of forms("/api/videos/", own, victim, "/events")) {
      const events = await raw(base, "GET", form, { ...mallory.bearer, accept: "text/event-stream" });
      expect(events.body, form).not.toContain(ALICE_TITLE);
      // Errors may repeat the id she sent; no event about Alice's video is ever streamed to her.
      expect(events.body, form).not.toMatch(new RegExp(`data:.*${victim}`));
    }
    const after = await server.prisma.video.findUniqueOrThrow({ where: { id: victim } });
    expect(after).toMatchObject({ title: ALICE_TITLE, ownerId: alice.id, visibility: "PRIVATE" });
  });
});

describe("media feature URLs", () => {
  it("another user never reads or changes a private video's captions, chapters, poster or download", async () => {
    const victim = await makeReadyVideo(catalog, { title: ALICE_TITLE, ownerId: alice.id, visibility: "PRIVATE" });
    const own = await makeReadyVideo(catalog, { title: "mallory's", ownerId: mallory.id, visibility: "PUBLIC" });
    // The media playlist a text track is segmented along.
    const playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3.0,\nseg-00001.m4s\n#EXT-X-ENDLIST\n";
    await storage.put(`videos/${victim}/hls/180p/index.m3u8`, Buffer.from(playlist));
    const cue = "alice-secret-cue";
    const chapter = "alice-secret-chapter";
    const track = await fetch(`${base}/api/videos/${victim}/captions?language=en`, {
      method: "POST",
      headers: { ...alice.bearer, "content-type": "text/vtt" },
      body: `WEBVTT\n\n00:00.000 --> 00:01.000\n${cue}\n`,
    });
    expect(track.status).toBe(201);
    const chapters = await fetch(`${base}/api/videos/${victim}/chapters`, {
      method: "PUT",
      headers: { ...alice.bearer, "content-type": "application/json" },
      body: JSON.stringify({ chapters: [{ title: chapter, startTime: 0 }] }),
    });
    expect(chapters.status).toBe(200);
    const json = { ...mallory.bearer, "content-type": "application/json" };
    const vtt = { ...mallory.bearer, "content-type": "text/vtt" };
    const secrets = [ALICE_TITLE, cue, chapter];
    const expectNothing = (res: RawResponse, what: string) => {
      for (const secret of secrets) expect(res.body, what).not.toContain(secret);
    };
    // Her own canonical URLs work, so a refusal below is not a broken route.
    expect((await raw(base, "GET", `/api/videos/${own}/captions`, mallory.bearer)).status).toBe(200);
    expect((await raw(base, "GET", `/api/videos/${own}/chapters`, mallory.bearer)).status).toBe(200);

    for (const suffix of ["/captions", "/chapters", "/download", "/captions/en"]) {
      for (const form of forms("/api/videos/", own, victim, suffix)) {
        const get = await raw(base, "GET", form, mallory.bearer);
        expectNothing(get, `GET ${form}`);
        if (suffix === "/download") expect(get.status, form).not.toBe(200);
        const put = await raw(
          base,
          "PUT",
          form,
          json,
          JSON.stringify({ chapters: [{ title: "pwned", startTime: 0 }] }),
        );
        expectNothing(put, `PUT ${form}`);
        const post = await raw(base, "POST", `${form}${form.includes("?") ? "&" : "?"}language=en`, vtt, "WEBVTT\n");
        expectNothing(post, `POST ${form}`);
        const del = await raw(base, "DELETE", form, mallory.bearer);
        expectNothing(del, `DELETE ${form}`);
      }
    }
    for (const form of forms("/api/videos/", own, victim)) {
      const patch = await raw(base, "PATCH", form, json, JSON.stringify({ posterTime: 0, downloads: true }));
      expectNothing(patch, `PATCH ${form}`);
    }
    const after = await server.prisma.video.findUniqueOrThrow({ where: { id: victim } });
    expect(after).toMatchObject({ downloads: false, posterTime: null, chapters: [{ title: chapter, startTime: 0 }] });
    expect((after.captions as { language: string }[]).map((t) => t.language)).toEqual(["en"]);
  });

  it("a private video's images (made at any time) are never served without its own signature", async () => {
    const victim = await makeReadyVideo(catalog, { title: "v", ownerId: alice.id, visibility: "PRIVATE" });
    const own = await makeReadyVideo(catalog, { title: "m", ownerId: mallory.id, visibility: "PUBLIC" });
    const ownPrivate = await makeReadyVideo(catalog, { title: "mp", ownerId: mallory.id, visibility: "PRIVATE" });
    // The images of the default parameters (3 s videos: a frame at 1.5 s, a preview of 0–3 s),
    // already made: a request that got past the access check would be served these bytes.
    const made = { "thumbnail.jpg": "t1.5-640xauto-preserve.jpg", "animated.webp": "a0.0-3.0-15fps-320xauto.webp" };
    const secret = "alice-secret-image-bytes";
    for (const key of Object.values(made)) {
      await storage.put(`videos/${victim}/images/${key}`, Buffer.from(secret));
      await storage.put(`videos/${own}/images/${key}`, Buffer.from("mallory-public-bytes"));
      await storage.put(`videos/${ownPrivate}/images/${key}`, Buffer.from("mallory-private-bytes"));
    }
    const signedForOwn = new MediaSigner(TEST_SECRET, 3600).token(ownPrivate);
    for (const file of Object.keys(made)) {
      expect((await raw(base, "GET", `/media/videos/${own}/${file}`, {})).body).toBe("mallory-public-bytes");
      expect((await raw(base, "GET", `/media/s/${signedForOwn}/videos/${ownPrivate}/${file}`, {})).body).toBe(
        "mallory-private-bytes",
      );
      const paths = [
        ...forms("/media/videos/", own, victim, `/${file}`),
        ...forms(`/media/s/${signedForOwn}/videos/`, ownPrivate, victim, `/${file}`),
        `/media/s/${signedForOwn}/videos/${victim}/${file}`,
        `/media/videos/${own}/../${victim}/${file}`,
        `/media/videos/${victim}/${file}`,
        `/media/s/x/videos/${victim}/${file}`,
      ];
      for (const p of paths) {
        for (const method of ["GET", "HEAD"]) {
          const res = await raw(base, method, p, mallory.bearer);
          expect(res.body, `${method} ${p}`).not.toContain(secret);
          if (res.status < 400) {
            expect(["mallory-public-bytes", "mallory-private-bytes", ""], `${method} ${p}`).toContain(res.body);
            expect(res.headers["content-length"], `${method} ${p}`).not.toBe(String(secret.length));
          }
        }
      }
    }
  });
});

describe("media URLs", () => {
  it("a private video's files are never served without its own signature, whatever the form", async () => {
    const victim = await makeReadyVideo(catalog, { title: "v", ownerId: alice.id, visibility: "PRIVATE" });
    const own = await makeReadyVideo(catalog, { title: "m", ownerId: mallory.id, visibility: "PUBLIC" });
    const ownPrivate = await makeReadyVideo(catalog, { title: "mp", ownerId: mallory.id, visibility: "PRIVATE" });
    const file = "hls/180p/seg-00001.m4s";
    const secret = "alice-secret-segment-bytes";
    await storage.put(`videos/${victim}/${file}`, Buffer.from(secret));
    await storage.put(`videos/${own}/${file}`, Buffer.from("mallory-public-bytes"));
    await storage.put(`videos/${ownPrivate}/${file}`, Buffer.from("mallory-private-bytes"));
    const signedForOwn = new MediaSigner(TEST_SECRET, 3600).token(ownPrivate);
    // The forms can be told apart from a refusal: her own files are served.
    expect((await raw(base, "GET", `/media/videos/${own}/${file}`, {})).body).toBe("mallory-public-bytes");
    expect((await raw(base, "GET", `/media/s/${signedForOwn}/videos/${ownPrivate}/${file}`, {})).body).toBe(
      "mallory-private-bytes",
    );

    const paths = [
      ...forms("/media/videos/", own, victim, `/${file}`),
      ...forms("/media/videos/", `${own}/${file}`, `${victim}/${file}`),
      ...forms(`/media/s/${signedForOwn}/videos/`, ownPrivate, victim, `/${file}`),
      `/media/s/${signedForOwn}/videos/${victim}/${file}`,
      `/media/videos/${own}/hls/../../${victim}/${file}`,
      `/media/videos/${own}/hls/..%2F..%2F${victim}/${file}`,
      `/media/videos/${own}/hls/%2e%2e/%2e%2e/${victim}/${file}`,
      `/media/./videos/${victim}/${file}`,
      `//media/videos/${victim}/${file}`,
      `/media//videos/${victim}/${file}`,
      `/media/videos/${victim}/${file}`,
      `/media/s/x/videos/${victim}/${file}`,
    ];
    for (const p of paths) {
      for (const method of ["GET", "HEAD"]) {
        const res = await raw(base, method, p, mallory.bearer);
        expect(res.body, `${method} ${p}`).not.toContain(secret);
        // What is served at all is one of her own files (her id first, the rest a query).
        if (res.status < 400) {
          expect(["mallory-public-bytes", "mallory-private-bytes", ""], `${method} ${p}`).toContain(res.body);
          expect(res.headers["content-length"], `${method} ${p}`).not.toBe(String(secret.length));
        }
      }
    }
  });
});
