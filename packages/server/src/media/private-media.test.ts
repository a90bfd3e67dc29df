import { keys, type LocalStorage } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_SECRET } from "../../test/auth.js";
import { readyEvent, signUp, type TestUser, uploadAs } from "../../test/factories.js";
import { startTestApp } from "../../test/test-app.js";
import type { Catalog } from "../catalog/catalog.js";
import type { TestDatabase } from "../db/test-databases.js";
import { MediaSigner } from "./media-signing.js";

// Visibility: lists show PUBLIC only, UNLISTED plays by link, PRIVATE only for its owner (and
// admins) through expiring signed URLs for every playlist, segment and image.

let tdb: TestDatabase;
let app: FastifyInstance;
let base: string;
let storage: LocalStorage;
let catalog: Catalog;
let admin: TestUser;
let owner: TestUser;
let other: TestUser;

const FILES = [
  "hls/master.m3u8",
  "hls/180p/index.m3u8",
  "hls/180p/init.mp4",
  "hls/180p/seg-00001.m4s",
  "poster.jpg",
  "storyboard.jpg",
  "storyboard.vtt",
];

async function publishedVideo(title: string, visibility: "PUBLIC" | "UNLISTED" | "PRIVATE"): Promise<string> {
  const id = await uploadAs(base, owner.bearer, { title });
  for (const f of FILES) await storage.put(`videos/${id}/${f}`, Buffer.from(`${f} of ${id}`));
  await catalog.transcodes.applyReady(readyEvent(id, 1));
  const res = await fetch(`${base}/api/videos/${id}`, {
    method: "PATCH",
    headers: { ...owner.bearer, "content-type": "application/json" },
    body: JSON.stringify({ visibility }),
  });
  expect(res.status).toBe(200);
  return id;
}

const ids = (list: { items: { id: string }[] }) => list.items.map((v) => v.id);

beforeAll(async () => {
  ({ tdb, app, base, storage, catalog } = await startTestApp());
  admin = await signUp(base);
  owner = await signUp(base);
  other = await signUp(base);
}, 180_000);

afterAll(async () => {
  await app?.close();
  await tdb?.dispose();
});

describe("visibility", () => {
  let pub: string;
  let unlisted: string;
  let priv: string;
  beforeAll(async () => {
    pub = await publishedVideo("Lantern festival public", "PUBLIC");
    unlisted = await publishedVideo("Lantern festival unlisted", "UNLISTED");
    priv = await publishedVideo("Lantern festival private", "PRIVATE");
  });

  it("lists and searches PUBLIC videos only; mine=1 shows the caller's own of every visibility", async () => {
    for (const headers of [{}, owner.bearer]) {
      expect(ids(await (await fetch(`${base}/api/videos`, { headers })).json())).toEqual([pub]);
      expect(ids(await (await fetch(`${base}/api/videos?q=lantern`, { headers })).json())).toEqual([pub]);
    }
    const mine = ids(await (await fetch(`${base}/api/videos?mine=1`, { headers: owner.bearer })).json());
    expect(mine).toEqual([priv, unlisted, pub]);
    expect(ids(await (await fetch(`${base}/api/videos?mine=1`, { headers: other.bearer })).json())).toEqual([]);
  });

  it("plays an UNLISTED video by link with plain media URLs", async () => {
    const video = await (await fetch(`${base}/api/videos/${unlisted}`)).json();
    expect(video.visibility).toBe("UNLISTED");
    expect(video.playbackUrl).toBe(`/media/videos/${unlisted}/hls/master.m3u8`);
    expect((await fetch(`${base}${video.playbackUrl}`)).status).toBe(200);
  });

  it("shows a PRIVATE video only to its owner and admins", async () => {
    for (const headers of [{}, other.bearer]) {
      const res = await fetch(`${base}/api/videos/${priv}`, { headers });
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe("VIDEO_NOT_FOUND");
      expect((await fetch(`${base}/api/videos/${priv}/events`, { headers })).status).toBe(404);
    }
    for (const headers of [owner.bearer, admin.bearer]) {
      expect((await fetch(`${base}/api/videos/${priv}`, { headers })).status).toBe(200);
    }
  });

  it("serves every file of a PRIVATE video under its signed URL only", async () => {
    const video = await (await fetch(`${base}/api/videos/${priv}`, { headers: owner.bearer })).json();
    const m = new RegExp(`^/media/s/([^/]+)/videos/${priv}/hls/master\\.m3u8$`).exec(video.playbackUrl);
    expect(m, video.playbackUrl).not.toBeNull();
    const signed = `/media/s/${m?.[1]}/videos/${priv}/`;
    expect(video.posterUrl).toBe(`${signed}poster.jpg`);
    expect(video.storyboardVttUrl).toBe(`${signed}storyboard.vtt`);
    for (const f of FILES) {
      const res = await fetch(`${base}${signed}${f}`);
      expect(res.status, f).toBe(200);
      expect(await res.text()).toBe(`${f} of ${priv}`);
      expect(res.headers.get("cache-control")).toMatch(/^private/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      // Without the signature: as if it did not exist.
      const plain = await fetch(`${base}/media/videos/${priv}/${f}`);
      expect(plain.status, f).toBe(404);
    }
    // The source is never served, signed or not.
    await storage.put(keys.source(priv), Buffer.from("source"));
    expect((await fetch(`${base}${signed}source`)).status).toBe(404);
    expect((await fetch(`${base}/media/videos/${priv}/source`)).status).toBe(404);
  });

  it("refuses an expired, a tampered and another video's signature", async () => {
    const segment = `videos/${priv}/hls/180p/seg-00001.m4s`;
    const expired = new MediaSigner(TEST_SECRET, 60, () => Date.now() - 3_600_000).token(priv);
    const res = await fetch(`${base}/media/s/${expired}/${segment}`);
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("MEDIA_URL_EXPIRED");

    const valid = new MediaSigner(TEST_SECRET, 60).token(priv);
    const last = valid.at(-1) === "A" ? "B" : "A";
    const tampered = `${valid.slice(0, -1)}${last}`;
    const later = valid.replace(/^\d+/, (exp) => String(Number(exp) + 3600));
    for (const token of [tampered, later, new MediaSigner("another secret entirely, 32+ chars", 60).token(priv)]) {
      const r = await fetch(`${base}/media/s/${token}/${segment}`);
      expect(r.status).toBe(403);
      expect((await r.json()).error.code).toBe("MEDIA_URL_INVALID");
    }
    // A signature is for one video: it opens no other.
    const forPub = new MediaSigner(TEST_SECRET, 60).token(pub);
    expect((await fetch(`${base}/media/s/${forPub}/${segment}`)).status).toBe(403);
    expect((await fetch(`${base}/media/s/${valid}/${segment}`)).status).toBe(200);
  });

  it("validates the visibility value", async () => {
    const res = await fetch(`${base}/api/videos/${pub}`, {
      method: "PATCH",
      headers: { ...owner.bearer, "content-type": "application/json" },
      body: JSON.stringify({ visibility: "SECRET" }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("VALIDATION_FAILED");
  });
});
