import { runCli } from "@reelkit/sdk/cli";
import type { Video } from "@reelkit/sdk/contract";
import { createReelkitServer, ReelkitApiError } from "@reelkit/sdk/server";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../../../../test/engines.js";
import { createApiKey, mintUploadToken, signUp, type TestUser, tusCreate } from "../../test/factories.js";
import { startTestApp, type TestApp } from "../../test/test-app.js";
import { sha256 } from "../auth/api-keys.js";
import { postgresMissing } from "../db/test-databases.js";
import { failTokenExpiredUploads, UPLOAD_TOKEN_EXPIRED_REASON } from "./upload-completion.js";
import { createUploadBackend } from "./upload-store.js";

/**
 * The upload token contract, as a third-party site's browser meets it: one token per upload,
 * bound to the upload it created and resuming it (after a page reload too) until it expires;
 * the video's settings come from the token; limits apply per API key.
 */
describeWith("postgres", postgresMissing, "upload tokens (PostgreSQL)", () => {
  let t: TestApp;
  let base: string;
  let user: TestUser;

  beforeAll(async () => {
    t = await startTestApp({
      engine: "postgres",
      env: { REELKIT_MAX_UPLOAD_SIZE: "1000000", REELKIT_MAX_UNFINISHED_UPLOADS: "3" },
    });
    base = t.base;
    user = await signUp(base);
  }, 180_000);

  afterAll(async () => {
    await t?.close();
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const tus = (auth: Record<string, string>, extra: Record<string, string> = {}) => ({
    "Tus-Resumable": "1.0.0",
    ...auth,
    ...extra,
  });
  /** `PATCH` of `data` at `offset` (one chunk of an upload). */
  const patch = (url: string, auth: Record<string, string>, offset: number, data: string) =>
    fetch(url, {
      method: "PATCH",
      headers: tus(auth, { "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" }),
      body: data,
    });
  const head = (url: string, auth: Record<string, string>) => fetch(url, { method: "HEAD", headers: tus(auth) });
  const video = async (id: string): Promise<Video> =>
    (await fetch(`${base}/api/videos/${id}`, { headers: user.bearer })).json() as Promise<Video>;
  const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  it("mints a token from a request with no body at all, with the defaults and an absolute upload URL", async () => {
    const { key } = await createApiKey(base, user);
    const res = await fetch(`${base}/api/upload-tokens`, { method: "POST", headers: bearer(key) });
    expect(res.status).toBe(201);
    const token = await res.json();
    expect(token).toMatchObject({
      owner: user.id,
      visibility: "UNLISTED",
      tags: [],
      contentTypes: [],
      passthrough: null,
      title: null,
      description: null,
      uploadUrl: `${base}/api/uploads`,
    });
    expect(token.token).toMatch(/^rkut_/);
  });

  it("applies the token's visibility, title, description, tags and passthrough to the video", async () => {
    const { key } = await createApiKey(base, user);
    const minted = await mintUploadToken(base, key, {
      visibility: "PRIVATE",
      title: "Set by the site",
      description: "Its description",
      tags: ["Cats ", "cats", "Kittens"],
      passthrough: "order-4711",
    });
    expect(minted).toMatchObject({ tags: ["cats", "kittens"], passthrough: "order-4711", visibility: "PRIVATE" });
    const created = await tusCreate(base, {
      auth: bearer(minted.token),
      metadata: { title: "from the browser", description: "browser text", filename: "clip.mp4" },
      body: "0123",
    });
    expect(created.status).toBe(201);
    const id = created.headers.get("reelkit-video-id") as string;
    expect(await video(id)).toMatchObject({
      title: "Set by the site",
      description: "Its description",
      visibility: "PRIVATE",
      tags: ["cats", "kittens"],
      passthrough: "order-4711",
      ownerId: user.id,
      status: "QUEUED",
    });
    // Returned in lists as well; never listed publicly (PRIVATE).
    const mine = await (await fetch(`${base}/api/videos?mine=1`, { headers: user.bearer })).json();
    expect(mine.items.find((v: Video) => v.id === id)?.passthrough).toBe("order-4711");
    const listed = await (await fetch(`${base}/api/videos?limit=100`)).json();
    expect(listed.items.some((v: Video) => v.id === id)).toBe(false);
    // A passthrough longer than 255 characters is refused when minting.
    const long = await fetch(`${base}/api/upload-tokens`, {
      method: "POST",
      headers: { ...bearer(key), "content-type": "application/json" },
      body: JSON.stringify({ passthrough: "x".repeat(256) }),
    });
    expect(long.status).toBe(400);
    expect(await code(long)).toBe("VALIDATION_FAILED");
  });

  it("binds the token to its upload: the same token resumes it after a reload, another gets UPLOAD_TOKEN_MISMATCH and changes nothing", async () => {
    const { key } = await createApiKey(base, user);
    const { token } = await mintUploadToken(base, key);
    const other = (await mintUploadToken(base, key)).token;
    const created = await tusCreate(base, { auth: bearer(token), length: 10 });
    expect(created.status).toBe(201);
    const url = new URL(created.headers.get("location") as string, base).href;
    const id = created.headers.get("reelkit-video-id") as string;
    expect((await patch(url, bearer(token), 0, "0123")).status).toBe(204);

    // "Reload": a fresh token minted for the same file may neither read nor write the upload.
    const refusedHead = await head(url, bearer(other));
    expect(refusedHead.status).toBe(403);
    expect(refusedHead.headers.get("reelkit-error-code")).toBe("UPLOAD_TOKEN_MISMATCH");
    const refusedPatch = await patch(url, bearer(other), 4, "456789");
    expect(refusedPatch.status).toBe(403);
    expect(await code(refusedPatch)).toBe("UPLOAD_TOKEN_MISMATCH");
    // Nothing moved: the upload is where the first token left it, and the other token is unspent.
    const resumed = await head(url, bearer(token));
    expect(resumed.status).toBe(200);
    expect(resumed.headers.get("upload-offset")).toBe("4");
    const otherRow = await t.prisma.uploadToken.findUniqueOrThrow({ where: { hash: sha256(other) } });
    expect(otherRow.usedAt).toBeNull();

    // The token that created it resumes it from its offset and finishes it.
    expect((await patch(url, bearer(token), 4, "456789")).status).toBe(204);
    expect((await video(id)).status).toBe("QUEUED");
    // One upload per token.
    const again = await tusCreate(base, { auth: bearer(token), length: 4 });
    expect(again.status).toBe(409);
    expect(await code(again)).toBe("UPLOAD_TOKEN_USED");
  });

  it("refuses an expired token with UPLOAD_TOKEN_EXPIRED, for a creation and for its own unfinished upload", async () => {
    const { key } = await createApiKey(base, user);
    const { token } = await mintUploadToken(base, key);
    const created = await tusCreate(base, { auth: bearer(token), length: 8 });
    const url = new URL(created.headers.get("location") as string, base).href;
    expect((await patch(url, bearer(token), 0, "0123")).status).toBe(204);
    const unused = (await mintUploadToken(base, key)).token;
    await t.prisma.uploadToken.updateMany({
      where: { hash: { in: [sha256(token), sha256(unused)] } },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const resume = await patch(url, bearer(token), 4, "4567");
    expect(resume.status).toBe(401);
    expect(await code(resume)).toBe("UPLOAD_TOKEN_EXPIRED");
    const creation = await tusCreate(base, { auth: bearer(unused), length: 4 });
    expect(creation.status).toBe(401);
    expect(await code(creation)).toBe("UPLOAD_TOKEN_EXPIRED");
    // A token nobody minted is just unknown.
    const unknown = await tusCreate(base, { auth: bearer("rkut_nothing-like-it"), length: 4 });
    expect(unknown.status).toBe(401);
    expect(await code(unknown)).toBe("UNAUTHORIZED");
  });

  it("fails an upload whose token expired with a readable reason and discards its partial data, once, even after a crash", async () => {
    const backend = await createUploadBackend({ config: t.config, storage: t.storage });
    const sweep = (settledBefore: Date) =>
      failTokenExpiredUploads({
        uploads: backend.uploads,
        storage: t.storage,
        catalog: t.catalog.uploads,
        discard: (id) => backend.discard(id),
        settledBefore,
      });
    const { key } = await createApiKey(base, user);
    const started = async () => {
      const { token } = await mintUploadToken(base, key);
      const created = await tusCreate(base, { auth: bearer(token), length: 8 });
      const url = new URL(created.headers.get("location") as string, base).href;
      expect((await patch(url, bearer(token), 0, "0123")).status).toBe(204);
      return { token, id: url.split("/").pop() as string };
    };
    const expire = (token: string, at: Date) =>
      t.prisma.uploadToken.updateMany({ where: { hash: sha256(token) }, data: { expiresAt: at } });
    const a = await started();
    const b = await started();
    const live = await started();
    await expire(a.token, new Date(Date.now() - 60_000));
    await expire(b.token, new Date(Date.now() - 60_000));

    // Bytes arrived after `settledBefore`: a PATCH begun before expiry may still be writing.
    expect(await sweep(new Date(Date.now() - 30_000))).not.toContain(a.id);
    expect((await video(a.id)).status).toBe("UPLOADING");
    expect(await backend.uploads.getUpload(a.id)).toMatchObject({ offset: 4 });

    // A sweep that died after discarding b's data but before failing its video.
    await backend.discard(b.id);
    expect(await backend.uploads.getUpload(b.id).catch(() => null)).toBeNull();

    // (Uploads of other tests whose token expired go too.)
    const failed = await sweep(new Date(Date.now() + 1));
    expect(failed).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(failed).not.toContain(live.id);
    for (const id of [a.id, b.id]) {
      expect(await video(id)).toMatchObject({ status: "FAILED", failureReason: UPLOAD_TOKEN_EXPIRED_REASON });
      expect(await backend.uploads.getUpload(id).catch(() => null)).toBeNull();
      expect(await t.storage.stat(`uploads/${id}`)).toBeNull();
    }
    // An upload whose token is still valid is untouched, and a repeated sweep changes nothing.
    expect((await video(live.id)).status).toBe("UPLOADING");
    expect(await backend.uploads.getUpload(live.id)).toMatchObject({ offset: 4 });
    expect(await sweep(new Date(Date.now() + 1))).toEqual([]);
  });

  it("enforces the token's size cap and content types with stable codes, spending nothing", async () => {
    const { key } = await createApiKey(base, user);
    const minted = await mintUploadToken(base, key, { maxSize: 8, contentTypes: ["video/*", "application/mxf"] });
    const auth = bearer(minted.token);
    const tooLarge = await tusCreate(base, { auth, length: 9, metadata: { filetype: "video/mp4" } });
    expect(tooLarge.status).toBe(413);
    expect(await code(tooLarge)).toBe("UPLOAD_TOO_LARGE");
    const declared: Record<string, string>[] = [{ filetype: "image/png" }, { filetype: "videos/mp4" }, {}];
    for (const metadata of declared) {
      const refused = await tusCreate(base, { auth, length: 4, metadata });
      expect(refused.status).toBe(415);
      expect(await code(refused)).toBe("UPLOAD_TYPE_NOT_ALLOWED");
    }
    const exact = await tusCreate(base, { auth, body: "0123", metadata: { filetype: "application/mxf" } });
    expect(exact.status).toBe(201);
    const family = await mintUploadToken(base, key, { contentTypes: ["video/*"] });
    const ok = await tusCreate(base, {
      auth: bearer(family.token),
      body: "0123",
      metadata: { filetype: "video/quicktime" },
    });
    expect(ok.status).toBe(201);
  });

  it("counts unfinished uploads per API key, with its own limit, never against its owner's", async () => {
    const limited = await createApiKey(base, user, "limited", { maxUnfinishedUploads: 2 });
    const unlimited = await createApiKey(base, user, "server default");
    const start = async (key: string) =>
      tusCreate(base, { auth: bearer((await mintUploadToken(base, key)).token), length: 10 });
    expect((await start(limited.key)).status).toBe(201);
    expect((await start(limited.key)).status).toBe(201);
    const third = await start(limited.key);
    expect(third.status).toBe(429);
    expect(await code(third)).toBe("UPLOAD_LIMIT_REACHED");
    // Another key of the same user has its own count (the server's default of 3 here).
    for (let i = 0; i < 3; i++) expect((await start(unlimited.key)).status).toBe(201);
    expect((await start(unlimited.key)).status).toBe(429);
    // Five unfinished token uploads, and the user still has their own three.
    for (let i = 0; i < 3; i++) expect((await tusCreate(base, { auth: user.bearer, length: 10 })).status).toBe(201);
    const own = await tusCreate(base, { auth: user.bearer, length: 10 });
    expect(own.status).toBe(429);
    // Raising the key's limit takes effect at once.
    const raised = await fetch(`${base}/api/api-keys/${limited.id}`, {
      method: "PATCH",
      headers: { ...user.bearer, "content-type": "application/json" },
      body: JSON.stringify({ maxUnfinishedUploads: 3 }),
    });
    expect(raised.status).toBe(200);
    expect(await raised.json()).toMatchObject({ maxUnfinishedUploads: 3, uploadsPerMinute: null, scope: "full" });
    expect((await start(limited.key)).status).toBe(201);
  });

  it("rate-limits creations per API key at the key's uploads per minute", async () => {
    const slow = await createApiKey(base, user, "slow", { uploadsPerMinute: 2 });
    const other = await createApiKey(base, user, "other");
    const create = async (key: string) =>
      tusCreate(base, { auth: bearer((await mintUploadToken(base, key)).token), body: "0123" });
    expect((await create(slow.key)).status).toBe(201);
    expect((await create(slow.key)).status).toBe(201);
    const third = await create(slow.key);
    expect(third.status).toBe(429);
    expect(await code(third)).toBe("RATE_LIMITED");
    expect(third.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await create(other.key)).status).toBe(201);
  });

  it('an "upload" key mints upload tokens and nothing else', async () => {
    const { key } = await createApiKey(base, user, "browser uploads", { scope: "upload" });
    const listed = await (await fetch(`${base}/api/api-keys`, { headers: user.bearer })).json();
    expect(listed.items.find((k: { name: string }) => k.name === "browser uploads")?.scope).toBe("upload");
    const { token } = await mintUploadToken(base, key, { title: "ok" });
    expect((await tusCreate(base, { auth: bearer(token), body: "0123" })).status).toBe(201);
    for (const [method, path] of [
      ["GET", "/api/videos?mine=1"],
      ["POST", "/api/uploads"],
    ] as const) {
      const res = await fetch(`${base}${path}`, { method, headers: tus(bearer(key), { "Upload-Length": "4" }) });
      expect(res.status).toBe(403);
      expect(await code(res)).toBe("API_KEY_SCOPE");
    }
  });

  it("@reelkit/sdk/server mints tokens and manages the key's user's videos", async () => {
    const { key } = await createApiKey(base, user, "site backend");
    const reelkit = createReelkitServer({ baseUrl: base, apiKey: key });
    const minted = await reelkit.createUploadToken({ title: "Server SDK", passthrough: "row-9", tags: ["sdk"] });
    expect(minted).toMatchObject({ owner: user.id, passthrough: "row-9", uploadUrl: `${base}/api/uploads` });
    const created = await tusCreate(base, { auth: bearer(minted.token), body: "0123" });
    const id = created.headers.get("reelkit-video-id") as string;
    const listed = await reelkit.listVideos({ limit: 100 });
    expect(listed.items.find((v) => v.id === id)).toMatchObject({ title: "Server SDK", passthrough: "row-9" });
    expect(await reelkit.updateVideo(id, { visibility: "PUBLIC" })).toMatchObject({ visibility: "PUBLIC" });
    await reelkit.deleteVideo(id);
    const gone = await reelkit.getVideo(id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ReelkitApiError);
    expect(gone).toMatchObject({ status: 404 });
    const refused = await reelkit.createUploadToken({ maxSize: 10_000_000 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 400, code: "VALIDATION_FAILED" });
  });

  it("reelkit keys create/list/revoke sign in with email and password; the key mints upload tokens", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: {} };
    const login = ["--server", base, "--email", user.email, "--password", user.password];
    const created = await runCli(["keys", "create", "--name", "from the cli", "--scope", "upload", ...login], io);
    expect(err.join("")).toContain("scope upload");
    expect(created).toBe(0);
    const key = out.join("").trim();
    expect(key).toMatch(/^rk_/);
    expect((await mintUploadToken(base, key)).owner).toBe(user.id);
    out.length = 0;
    expect(await runCli(["keys", "list", "--server", base, "--token", user.token], io)).toBe(0);
    const line = out
      .join("")
      .split("\n")
      .find((l) => l.includes("from the cli")) as string;
    expect(line).toContain("upload");
    const id = line.split(" ")[0] as string;
    expect(await runCli(["keys", "revoke", id, ...login], io)).toBe(0);
    expect((await fetch(`${base}/api/upload-tokens`, { method: "POST", headers: bearer(key) })).status).toBe(401);
    // Wrong password and missing flags: clear failures, no key.
    err.length = 0;
    const wrong = ["--server", base, "--email", user.email, "--password", "not-it-at-all"];
    expect(await runCli(["keys", "create", "--name", "x", ...wrong], io)).toBe(1);
    expect(err.join("")).toContain("signing in failed");
    expect(await runCli(["keys", "create", "--server", base, "--token", user.token], io)).toBe(2);
  });
});
