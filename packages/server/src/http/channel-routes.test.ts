import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Channel, Video, VideoList } from "@reelkit/sdk/contract";
import { resolveBinaries } from "@reelkit/transcoder";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeReadyVideo, signUp, type TestUser } from "../../test/factories.js";
import { startTestApp, type TestApp } from "../../test/test-app.js";

const run = promisify(execFile);
let t: TestApp;
let alice: TestUser;
let work: string;
const { ffmpeg, ffprobe } = resolveBinaries({ ffmpegPath: null, ffprobePath: null });

beforeAll(async () => {
  // Many sign-ups from one address: above the default sign-up rate limit.
  t = await startTestApp({ env: { REELKIT_AUTH_RATE_LIMIT: "1000/1m" } });
  alice = await signUp(t.base, { name: "Alice Films", handle: "Alice_Films" });
  work = await mkdtemp(path.join(tmpdir(), "reelkit-channels-"));
}, 180_000);

afterAll(async () => {
  await t?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const json = (headers: Record<string, string>, body: unknown, method = "PATCH") => ({
  method,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});
const origin = () => ({ origin: new URL(t.base).origin });
const channel = async (handle: string) => fetch(`${t.base}/api/channels/${handle}`);

/** A test image made by ffmpeg's lavfi source, `width`×`height`, in the format of `name`'s extension. */
async function image(name: string, width: number, height: number): Promise<Buffer> {
  const file = path.join(work, name);
  await run(ffmpeg, [
    "-v",
    "error",
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${width}x${height}`,
    "-frames:v",
    "1",
    "-y",
    file,
  ]);
  return readFile(file);
}

async function dimensionsOf(bytes: Buffer): Promise<string> {
  const file = path.join(work, `probe-${Math.random().toString(36).slice(2)}.jpg`);
  await import("node:fs/promises").then((fs) => fs.writeFile(file, bytes));
  const { stdout } = await run(ffprobe, [
    ...["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height"],
    ...["-of", "csv=p=0", file],
  ]);
  return stdout.trim();
}

describe("handles at sign-up", () => {
  it("keeps the chosen handle, lower-cased, and finds the channel by it in any case", async () => {
    const res = await channel("alice_films");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Channel;
    expect(body).toMatchObject({ id: alice.id, handle: "alice_films", name: "Alice Films", description: "" });
    expect(body.avatarUrl).toBeNull();
    expect((await channel("ALICE_FILMS")).status).toBe(200);
    const missing = await channel("nobody-here");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "CHANNEL_NOT_FOUND" } });
  });

  it("refuses a taken or malformed handle and creates no account", async () => {
    for (const [handle, status, code] of [
      ["alice_films", 409, "HANDLE_TAKEN"],
      ["ALICE_films", 409, "HANDLE_TAKEN"],
      ["a!", 400, "INVALID_HANDLE"],
      ["-starts-with-dash", 400, "INVALID_HANDLE"],
    ] as const) {
      const email = `${handle.replace(/\W/g, "")}-${status}@example.test`;
      const res = await fetch(`${t.base}/api/auth/sign-up/email`, {
        ...json(origin(), { email, password: "correct horse battery staple", name: "Someone", handle }, "POST"),
      });
      expect(res.status, handle).toBe(status);
      expect(await res.json()).toMatchObject({ error: { code } });
      expect(await t.prisma.user.count({ where: { email } })).toBe(0);
    }
  });

  it("derives a unique handle from the name when none was chosen", async () => {
    const first = await signUp(t.base, { name: "Bob Ross" });
    const second = await signUp(t.base, { name: "Bob Ross" });
    const handles = await t.prisma.user.findMany({
      where: { id: { in: [first.id, second.id] } },
      select: { id: true, handle: true },
    });
    expect(handles.find((u) => u.id === first.id)?.handle).toBe("bob-ross");
    expect(handles.find((u) => u.id === second.id)?.handle).toBe("bob-ross-2");
  });

  it("is not changed through Better Auth's update-user", async () => {
    const res = await fetch(`${t.base}/api/auth/update-user`, json(alice.headers, { handle: "stolen" }, "POST"));
    expect(res.status).toBe(400);
    expect((await (await channel("alice_films")).json()) as Channel).toMatchObject({ id: alice.id });
  });
});

describe("PATCH /api/channels/me", () => {
  it("changes the name, description and handle of the caller's own channel", async () => {
    const user = await signUp(t.base, { handle: "renamer" });
    const res = await fetch(
      `${t.base}/api/channels/me`,
      json(user.bearer, { name: "  New Name ", description: "Timelapses.", handle: "Renamed" }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ handle: "renamed", name: "New Name", description: "Timelapses." });
    expect((await channel("renamer")).status).toBe(404);
    const me = await fetch(`${t.base}/api/channels/me`, { headers: user.bearer });
    expect(await me.json()).toMatchObject({ id: user.id, handle: "renamed" });
  });

  it("answers a taken handle with 409, bad input with 400, no session with 401, a foreign page with 403", async () => {
    const user = await signUp(t.base, { handle: "patcher" });
    const taken = await fetch(`${t.base}/api/channels/me`, json(user.bearer, { handle: "alice_films" }));
    expect(taken.status).toBe(409);
    expect(await taken.json()).toMatchObject({ error: { code: "HANDLE_TAKEN" } });
    for (const body of [
      {},
      { handle: "no spaces" },
      { name: "   " },
      { description: "x".repeat(1001) },
      { role: "admin" },
    ]) {
      const res = await fetch(`${t.base}/api/channels/me`, json(user.bearer, body));
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "VALIDATION_FAILED" } });
    }
    expect((await fetch(`${t.base}/api/channels/me`, json({}, { name: "x" }))).status).toBe(401);
    const foreign = await fetch(
      `${t.base}/api/channels/me`,
      json({ cookie: user.cookie, origin: "https://evil.example" }, { name: "x" }),
    );
    expect(foreign.status).toBe(403);
    expect((await (await channel("patcher")).json()) as Channel).toMatchObject({ name: user.email.split("@")[0] });
  });
});

describe("avatars", () => {
  it("stores an uploaded image as a 256 px square JPEG served under /media, replacing the last one", async () => {
    const user = await signUp(t.base, { handle: "painter" });
    const put = (body: Buffer, type = "image/png") =>
      fetch(`${t.base}/api/channels/me/avatar`, {
        method: "PUT",
        headers: { ...user.bearer, "content-type": type },
        body: new Uint8Array(body),
      });
    const first = await put(await image("wide.png", 640, 360));
    expect(first.status).toBe(200);
    const { avatarUrl } = (await first.json()) as Channel;
    expect(avatarUrl).toMatch(new RegExp(`^/media/avatars/${user.id}/[a-f0-9]+\\.jpg$`));
    const served = await fetch(`${t.base}${avatarUrl}`);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("image/jpeg");
    expect(await dimensionsOf(Buffer.from(await served.arrayBuffer()))).toBe("mjpeg,256,256");

    const second = await put(await image("tall.jpg", 200, 500), "image/jpeg");
    const replaced = (await second.json()) as Channel;
    expect(replaced.avatarUrl).not.toBe(avatarUrl);
    expect((await fetch(`${t.base}${avatarUrl}`)).status).toBe(404);
    expect((await (await channel("painter")).json()) as Channel).toMatchObject({ avatarUrl: replaced.avatarUrl });

    const removed = await fetch(`${t.base}/api/channels/me/avatar`, { method: "DELETE", headers: user.bearer });
    expect(await removed.json()).toMatchObject({ avatarUrl: null });
    expect((await fetch(`${t.base}${replaced.avatarUrl}`)).status).toBe(404);
  });

  it("refuses what is not an image, other types and no session, and keeps the avatar it had", async () => {
    const user = await signUp(t.base, { handle: "careful" });
    const put = (body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string>) =>
      fetch(`${t.base}/api/channels/me/avatar`, { method: "PUT", headers, body });
    const garbage = await put("definitely not a png", { ...user.bearer, "content-type": "image/png" });
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toMatchObject({ error: { code: "INVALID_IMAGE" } });
    const text = await put("hello", { ...user.bearer, "content-type": "text/plain" });
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({ error: { code: "UNSUPPORTED_MEDIA_TYPE" } });
    const anonymous = await put(new Uint8Array(await image("anon.png", 64, 64)), { "content-type": "image/png" });
    expect(anonymous.status).toBe(401);
    expect((await (await channel("careful")).json()) as Channel).toMatchObject({ avatarUrl: null });
    expect(await t.storage.list(`avatars/${user.id}/`)).toEqual([]);
  });
});

describe("videos name their channel", () => {
  it("in a video, a list and a search", async () => {
    const owner = await signUp(t.base, { name: "Chan Owner", handle: "chan-owner" });
    const id = await makeReadyVideo(t.catalog, { title: "Owned clip zebra", ownerId: owner.id });
    const expected = { handle: "chan-owner", name: "Chan Owner", avatarUrl: null };
    const one = (await (await fetch(`${t.base}/api/videos/${id}`)).json()) as Video;
    expect(one.channel).toEqual(expected);
    const list = (await (await fetch(`${t.base}/api/videos?owner=${owner.id}`)).json()) as VideoList;
    expect(list.items.map((v) => [v.id, v.channel])).toEqual([[id, expected]]);
    const search = (await (await fetch(`${t.base}/api/videos?q=zebra`)).json()) as VideoList;
    expect(search.items.find((v) => v.id === id)?.channel).toEqual(expected);
  });
});

describe("GET /api/videos/:id/related", () => {
  it("ranks shared tags first, then title words; never the video itself, private or unready ones", async () => {
    const owner = await signUp(t.base);
    const make = async (title: string, tags: string[], visibility?: "PRIVATE" | "UNLISTED") => {
      const id = await makeReadyVideo(t.catalog, { title, ownerId: owner.id, visibility });
      if (tags.length) await t.catalog.edits.update(id, { tags });
      return id;
    };
    const subject = await make("Mountain sunrise timelapse", ["mountains", "timelapse", "nature"]);
    const twoTags = await make("Glacier walk", ["mountains", "nature"]);
    const oneTag = await make("City at night", ["timelapse"]);
    const wordOnly = await make("Sunrise over the sea", []);
    await make("Unrelated cooking show", ["food"]);
    await make("Private mountain sunrise", ["mountains", "timelapse", "nature"], "PRIVATE");
    await make("Unlisted mountain sunrise", ["mountains", "timelapse", "nature"], "UNLISTED");
    const res = await fetch(`${t.base}/api/videos/${subject}/related?limit=10`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as VideoList;
    expect(body.items.map((v) => v.id)).toEqual([twoTags, oneTag, wordOnly]);
    expect(body.items[0]?.channel).toMatchObject({ handle: expect.any(String) });
    const limited = (await (await fetch(`${t.base}/api/videos/${subject}/related?limit=1`)).json()) as VideoList;
    expect(limited.items.map((v) => v.id)).toEqual([twoTags]);
    expect((await fetch(`${t.base}/api/videos/${subject}/related?limit=0`)).status).toBe(400);
    expect((await fetch(`${t.base}/api/videos/00000000-0000-4000-8000-000000000000/related`)).status).toBe(404);
  });
});
