import { createReelkitClient, uploadVideo } from "@reelkit/sdk";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, mintUploadToken, signUp, type TestUser, tusCreate, uploadAs } from "../../test/factories.js";
import { startTestApp } from "../../test/test-app.js";
import { sha256 } from "../auth/api-keys.js";
import type { TestDatabase } from "../db/test-databases.js";

let tdb: TestDatabase;
let app: FastifyInstance;
let base: string;
let admin: TestUser;
let user: TestUser;
let other: TestUser;
const MAX_UPLOAD = 1_000_000;

beforeAll(async () => {
  ({ tdb, app, base } = await startTestApp({ env: { REELKIT_MAX_UPLOAD_SIZE: String(MAX_UPLOAD) } }));
  admin = await signUp(base);
  user = await signUp(base);
  other = await signUp(base);
}, 180_000);

afterAll(async () => {
  await app?.close();
  await tdb?.dispose();
});

const json = (headers: Record<string, string>, body: unknown, method = "POST") => ({
  method,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("API keys", () => {
  it("shows a new key once, stores only its SHA-256, lists it by prefix and records its last use", async () => {
    const created = await createApiKey(base, user, "backend");
    expect(created.key).toMatch(/^rk_[A-Za-z0-9_-]{43}$/);
    const row = await tdb.db.prisma.apiKey.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.hash).toBe(sha256(created.key));
    expect(JSON.stringify(row)).not.toContain(created.key.slice(3));
    const list = async (u: TestUser) =>
      (await (await fetch(`${base}/api/api-keys`, { headers: u.bearer })).json()) as {
        items: { id: string; name: string; prefix: string; lastUsedAt: string | null; key?: string }[];
      };
    const before = (await list(user)).items.find((k) => k.id === created.id);
    expect(before).toMatchObject({ name: "backend", prefix: created.key.slice(0, 9), lastUsedAt: null });
    expect(before?.key).toBeUndefined();
    expect((await list(other)).items).toEqual([]);
    // Server to server: the key acts as its user.
    const mine = await fetch(`${base}/api/videos?mine=1`, { headers: bearer(created.key) });
    expect(mine.status).toBe(200);
    expect((await list(user)).items.find((k) => k.id === created.id)?.lastUsedAt).not.toBeNull();
  });

  it("revokes a key for its owner only; a revoked key and its upload tokens stop working", async () => {
    const { id, key } = await createApiKey(base, user, "short-lived");
    const { token } = await mintUploadToken(base, key);
    const byOther = await fetch(`${base}/api/api-keys/${id}`, { method: "DELETE", headers: other.bearer });
    expect(byOther.status).toBe(404);
    expect((await fetch(`${base}/api/api-keys/${id}`, { method: "DELETE", headers: user.bearer })).status).toBe(204);
    const refused = await fetch(`${base}/api/videos?mine=1`, { headers: bearer(key) });
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe("UNAUTHORIZED");
    expect((await tusCreate(base, { auth: bearer(token), length: 4 })).status).toBe(401);
  });

  it("needs a signed-in user: no key manages keys, anonymous callers get 401, names are validated", async () => {
    const { key } = await createApiKey(base, user);
    const jwt = (await (await fetch(`${base}/api/auth/token`, { headers: user.bearer })).json()).token as string;
    // A key outlives what mints it: not from another key, not from a 15-minute JWT.
    for (const credential of [key, jwt]) {
      const refused = await fetch(`${base}/api/api-keys`, json(bearer(credential), { name: "not from a session" }));
      expect(refused.status).toBe(403);
      expect((await refused.json()).error.code).toBe("SESSION_REQUIRED");
    }
    // The session itself, by cookie from its own origin, may.
    expect((await fetch(`${base}/api/api-keys`, json(user.headers, { name: "by cookie" }))).status).toBe(201);
    expect((await fetch(`${base}/api/api-keys`)).status).toBe(401);
    const bad = await fetch(`${base}/api/api-keys`, json(user.bearer, { name: "" }));
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("VALIDATION_FAILED");
  });
});

describe("upload tokens", () => {
  it("are minted with an API key only", async () => {
    const body = json(user.bearer, {});
    expect((await fetch(`${base}/api/upload-tokens`, body)).status).toBe(403);
    expect((await fetch(`${base}/api/upload-tokens`, json({}, {}))).status).toBe(401);
    const { key } = await createApiKey(base, user);
    const tooBig = await fetch(`${base}/api/upload-tokens`, json(bearer(key), { maxSize: MAX_UPLOAD + 1 }));
    expect(tooBig.status).toBe(400);
    const forOther = await fetch(`${base}/api/upload-tokens`, json(bearer(key), { owner: other.id }));
    expect(forOther.status).toBe(403);
    // An admin's key mints for any existing user.
    const adminKey = (await createApiKey(base, admin)).key;
    expect((await mintUploadToken(base, adminKey, { owner: other.id })).owner).toBe(other.id);
    const unknown = await fetch(`${base}/api/upload-tokens`, json(bearer(adminKey), { owner: "nobody" }));
    expect(unknown.status).toBe(400);
  });

  it("create one upload for their owner, with the token's title and size cap, and nothing else", async () => {
    const { key } = await createApiKey(base, user);
    const minted = await mintUploadToken(base, key, { maxSize: 10, title: "From the partner site", expiresIn: 600 });
    expect(minted).toMatchObject({ owner: user.id, maxSize: 10, title: "From the partner site" });
    expect(Date.parse(minted.expiresAt) - Date.now()).toBeGreaterThan(590_000);
    const auth = bearer(minted.token);
    const tooLarge = await tusCreate(base, { auth, length: 11 });
    expect(tooLarge.status).toBe(413);
    expect((await tooLarge.json()).error.code).toBe("UPLOAD_TOO_LARGE");
    const deferred = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { "Tus-Resumable": "1.0.0", "Upload-Defer-Length": "1", ...auth },
    });
    expect(deferred.status).toBe(400);
    const id = await uploadAs(base, auth, { title: "what the browser said" }, "0123456789");
    const video = await (await fetch(`${base}/api/videos/${id}`, { headers: user.bearer })).json();
    expect(video).toMatchObject({ title: "From the partner site", ownerId: user.id });
    // One upload per token.
    const again = await tusCreate(base, { auth, length: 4 });
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe("UPLOAD_TOKEN_USED");
    // Nothing but uploads: no edits, no own list.
    expect((await fetch(`${base}/api/videos/${id}`, json(auth, { title: "x" }, "PATCH"))).status).toBe(403);
    expect((await fetch(`${base}/api/videos?mine=1`, { headers: auth })).status).toBe(403);
    expect((await fetch(`${base}/api/upload-tokens`, json(auth, {}))).status).toBe(403);
  });

  it("are spent only by an upload that was created", async () => {
    const { key } = await createApiKey(base, user);
    const auth = bearer((await mintUploadToken(base, key)).token);
    const creation = { "Tus-Resumable": "1.0.0", "Upload-Length": "4", ...auth };
    // Refused by tus after the token was checked: a metadata value that is not base64, no Tus-Resumable.
    const badMetadata = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { ...creation, "Upload-Metadata": "filename !!!not-base64!!!" },
    });
    expect(badMetadata.status).toBe(400);
    const noVersion = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: { ...auth, "Upload-Length": "4" },
    });
    expect(noVersion.status).toBe(412);
    const id = await uploadAs(base, auth, {}, "data");
    expect((await fetch(`${base}/api/videos/${id}`, { headers: user.bearer })).status).toBe(200);
    // Nothing left behind by the refused ones: the one video of this token is the created one.
    const token = await tdb.db.prisma.uploadToken.findFirstOrThrow({
      where: { hash: sha256(auth.authorization.slice(7)) },
    });
    expect(await tdb.db.prisma.video.count({ where: { uploadTokenId: token.id } })).toBe(1);
    expect((await tusCreate(base, { auth, length: 4 })).status).toBe(409);
  });

  it("are what the SDK uploads with (getToken), beside a client that holds no token", async () => {
    const { key } = await createApiKey(base, user);
    const { token } = await mintUploadToken(base, key, { title: "Through the SDK" });
    const client = createReelkitClient({ baseUrl: base });
    const data = Buffer.from("0123456789abcdef");
    const { videoId } = await uploadVideo(client, data, { getToken: () => token, size: data.length }).done;
    const video = await (await fetch(`${base}/api/videos/${videoId}`, { headers: user.bearer })).json();
    expect(video).toMatchObject({ title: "Through the SDK", ownerId: user.id, status: "QUEUED" });
    // Without the token the same client may not upload.
    await expect(uploadVideo(client, data, { size: data.length, retryDelays: [] }).done).rejects.toThrow();
  });

  it("serve every request of one upload: the SDK asks getToken once per upload (docs/kit.md)", async () => {
    const { key } = await createApiKey(base, user);
    const client = createReelkitClient({ baseUrl: base });
    // Two requests with a bearer token each: the creation, then the PATCH with the bytes.
    const data = Buffer.alloc(64 * 1024, 7);
    let minted = 0;
    const mint = () => {
      minted++;
      return mintUploadToken(base, key).then((t) => t.token);
    };
    let uploadToken: Promise<string> | null = null;
    const getUploadToken = () => (uploadToken ??= mint());
    const { videoId } = await uploadVideo(client, data, { getToken: getUploadToken, retryDelays: [] }).done;
    expect(minted).toBe(1);
    const video = await (await fetch(`${base}/api/videos/${videoId}`, { headers: user.bearer })).json();
    expect(video).toMatchObject({ ownerId: user.id, status: "QUEUED" });

    // A getter that mints a new token on every call is asked once too, so the upload goes through.
    minted = 0;
    const fresh = await uploadVideo(client, data, { getToken: mint, retryDelays: [] }).done;
    expect(minted).toBe(1);
    expect(fresh.videoId).not.toBe(videoId);
  });
});
