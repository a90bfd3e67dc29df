import { randomUUID } from "node:crypto";
import { keys, type TranscodePlayable, type TranscodeReady } from "@reelkit/core";
import type { CreateApiKeyBody, CreateUploadTokenBody, UploadToken, Video } from "@reelkit/sdk/contract";
import type { Catalog } from "../src/catalog/catalog.js";
import type { PrismaClient } from "../src/generated/prisma/client.js";
import type { UploadCatalog } from "../src/uploads/upload-routes.js";

/** `video.transcode.playable` for the same single rung as `readyEvent`, with nominal rates. */
export function playableEvent(videoId: string, attempt: number): TranscodePlayable {
  const { posterKey: _p, storyboardKey: _s, storyboardVttKey: _v, ...ready } = readyEvent(videoId, attempt);
  return { ...ready, renditions: ready.renditions.map((r) => ({ ...r, bandwidth: 578_000 })), passthrough: false };
}

/** The transcoder's ready event for a one-rung (180p) ladder of a 3 s clip. */
export function readyEvent(videoId: string, attempt: number): TranscodeReady {
  return {
    videoId,
    attempt,
    durationSec: 3,
    width: 320,
    height: 180,
    frameRate: 25,
    hasAudio: true,
    renditions: [
      {
        name: "180p",
        width: 320,
        height: 180,
        bandwidth: 300_000,
        averageBandwidth: 250_000,
        codecs: "avc1.64000d,mp4a.40.2",
        frameRate: 25,
        playlistKey: `videos/${videoId}/hls/180p/index.m3u8`,
      },
    ],
    masterKey: keys.master(videoId),
    posterKey: keys.poster(videoId),
    storyboardKey: keys.storyboard(videoId),
    storyboardVttKey: keys.storyboardVtt(videoId),
  };
}

let userCounter = 0;

/** A signed-in test user and the headers that authenticate as them. */
export interface TestUser {
  id: string;
  email: string;
  password: string;
  role: string;
  /** The session token (what `Authorization: Bearer` takes). */
  token: string;
  /** `name=value` of the session cookie. */
  cookie: string;
  /** Cookie authentication as a same-origin browser sends it (the cookie plus the server's Origin). */
  headers: Record<string, string>;
  /** Bearer authentication with the session token, as the SDK sends it. */
  bearer: Record<string, string>;
}

export interface SignUpInput {
  email?: string;
  password?: string;
  name?: string;
  /** The channel handle chosen on the form; the server derives one when absent. */
  handle?: string;
}

async function sessionFrom(base: string, res: Response, email: string, password: string): Promise<TestUser> {
  const text = await res.text();
  if (!res.ok) throw new Error(`sign-in as ${email} failed: ${res.status} ${text}`);
  const body = JSON.parse(text) as { user: { id: string; role?: string } };
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0] as string)
    .find((c) => c.startsWith("reelkit.session_token="));
  const token = res.headers.get("set-auth-token");
  if (!cookie || !token) throw new Error(`sign-in as ${email} set no session cookie or token`);
  const origin = new URL(base).origin;
  return {
    id: body.user.id,
    email,
    password,
    role: body.user.role ?? "user",
    token,
    cookie,
    headers: { cookie, origin },
    bearer: { authorization: `Bearer ${token}` },
  };
}

/** Creates an account with email + password through the real `/api/auth` routes and signs in. */
export async function signUp(base: string, input: SignUpInput = {}): Promise<TestUser> {
  userCounter += 1;
  const email = input.email ?? `user${userCounter}-${Math.random().toString(36).slice(2, 8)}@example.test`;
  const password = input.password ?? "correct horse battery staple";
  const res = await fetch(`${base}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: new URL(base).origin },
    body: JSON.stringify({ email, password, name: input.name ?? email.split("@")[0], handle: input.handle }),
  });
  return sessionFrom(base, res, email, password);
}

/** Signs in an existing account: a new session. */
export async function signIn(base: string, email: string, password: string): Promise<TestUser> {
  const res = await fetch(`${base}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: new URL(base).origin },
    body: JSON.stringify({ email, password }),
  });
  return sessionFrom(base, res, email, password);
}

/** tus `Upload-Metadata` from plain strings. */
export function tusMetadata(metadata: Record<string, string>): string {
  return Object.entries(metadata)
    .map(([k, v]) => `${k} ${Buffer.from(v).toString("base64")}`)
    .join(",");
}

export interface TusCreateInput {
  /** Authentication headers (a TestUser's `headers` or `bearer`, an upload token's). */
  auth?: Record<string, string>;
  metadata?: Record<string, string>;
  /** Sent with the creation (creation-with-upload); the whole upload when it is `length` bytes. */
  body?: string | Buffer;
  length?: number;
}

/** `POST /api/uploads` (tus creation, optionally with the data); resolves with the raw response. */
export function tusCreate(base: string, input: TusCreateInput = {}): Promise<Response> {
  const body = input.body === undefined ? undefined : Buffer.from(input.body);
  const headers: Record<string, string> = {
    "Tus-Resumable": "1.0.0",
    "Upload-Length": String(input.length ?? body?.length ?? 4),
    ...input.auth,
  };
  if (input.metadata && Object.keys(input.metadata).length > 0)
    headers["Upload-Metadata"] = tusMetadata(input.metadata);
  if (body) headers["Content-Type"] = "application/offset+octet-stream";
  return fetch(`${base}/api/uploads`, { method: "POST", headers, body });
}

/** A whole (small) upload in one request; resolves with the new video's id. */
export async function uploadAs(
  base: string,
  auth: Record<string, string>,
  metadata: Record<string, string> = {},
  data: string | Buffer = "data",
): Promise<string> {
  const res = await tusCreate(base, { auth, metadata, body: data });
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  return res.headers.get("reelkit-video-id") as string;
}

/** A user row straight in the database (no password, no session): an owner for catalog-level tests. */
export async function makeUser(
  prisma: PrismaClient,
  input: { id?: string; email?: string; role?: "admin" | "user"; handle?: string } = {},
): Promise<{ id: string; email: string; handle: string }> {
  const id = input.id ?? randomUUID();
  const email = input.email ?? `${id}@example.test`;
  const handle =
    input.handle ??
    `u${id
      .replace(/[^a-z0-9]/gi, "")
      .toLowerCase()
      .slice(0, 24)}`;
  await prisma.user.create({
    data: { id, email, handle, name: email.split("@")[0] as string, role: input.role ?? "user" },
  });
  return { id, email, handle };
}

export interface VideoInput {
  title: string;
  description?: string;
  /** Every video has an owner (a user row, e.g. from makeUser). */
  ownerId: string;
  visibility?: "PUBLIC" | "UNLISTED" | "PRIVATE";
}

/** A video that finished uploading and waits for the transcoder (attempt 1); returns its id. */
export async function makeQueuedVideo(catalog: Catalog, { title, description = "", ownerId, visibility }: VideoInput) {
  const videoId = randomUUID();
  await catalog.uploads.createForUpload({
    videoId,
    uploadId: videoId,
    title,
    description,
    filename: "clip.mp4",
    ownerId,
  });
  await catalog.uploads.finishUpload(videoId, { sourceKey: keys.source(videoId), sourceSize: 1024 });
  if (visibility && visibility !== "PUBLIC") await catalog.edits.update(videoId, { visibility });
  return videoId;
}

/** A published video with a 3 s, one-rung ladder; returns its id. */
export async function makeReadyVideo(catalog: Catalog, input: VideoInput) {
  const videoId = await makeQueuedVideo(catalog, input);
  await catalog.transcodes.applyReady(readyEvent(videoId, 1));
  return videoId;
}

/** Records what the upload flow asks of the catalog; videos not finished, cancelled or failed are UPLOADING. */
export function recordingCatalog() {
  const created: Parameters<UploadCatalog["createForUpload"]>[0][] = [];
  const createdAt = new Map<string, Date>();
  const finished: { videoId: string; sourceKey: string; sourceSize: number }[] = [];
  const cancelled: string[] = [];
  const failed: { videoId: string; reason: string }[] = [];
  const catalog: UploadCatalog = {
    createForUpload: async (input) => {
      created.push(input);
      createdAt.set(input.videoId, new Date());
    },
    finishUpload: async (videoId, source) => {
      finished.push({ videoId, ...source });
    },
    listUploading: async () =>
      created
        .map((c) => c.videoId)
        .filter(
          (id) =>
            !finished.some((f) => f.videoId === id) && !cancelled.includes(id) && !failed.some((f) => f.videoId === id),
        )
        .map((id) => ({ id, uploadId: id, createdAt: createdAt.get(id) as Date })),
    failUpload: async (videoId, reason) => {
      failed.push({ videoId, reason });
    },
    // No upload tokens here.
    listTokenExpiredUploads: async () => [],
    cancelUpload: async (videoId) => {
      cancelled.push(videoId);
    },
    uploadCreator: async (uploadId) => {
      const c = created.find((x) => x.uploadId === uploadId);
      return c ? { ownerId: c.ownerId, uploadTokenId: c.uploadTokenId } : null;
    },
    countUploading: async (ownerId) =>
      created.filter((c) => c.ownerId === ownerId && !finished.some((f) => f.videoId === c.videoId)).length,
  };
  return { catalog, created, finished, cancelled, failed };
}

/** GET /api/videos/:id from a running server. */
export async function getVideo(base: string, id: string): Promise<Video> {
  const res = await fetch(`${base}/api/videos/${id}`);
  if (res.status !== 200) throw new Error(`GET /api/videos/${id}: ${res.status}`);
  return (await res.json()) as Video;
}

/** Polls a video until `done` holds (or fails naming its last state). */
export async function waitForVideo(
  base: string,
  id: string,
  done: (v: Video) => boolean,
  timeoutMs = 120_000,
): Promise<Video> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const video = await getVideo(base, id);
    if (done(video)) return video;
    if (Date.now() > deadline) throw new Error(`video ${id} still ${video.status} (${video.progress}%)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const settled = (v: Video) => v.status === "READY" || v.status === "FAILED";

/** A new API key of `user` (created through `POST /api/api-keys` with their session). */
export async function createApiKey(
  base: string,
  user: TestUser,
  name = "test key",
  settings: Omit<CreateApiKeyBody, "name"> = {},
): Promise<{ id: string; key: string }> {
  const res = await fetch(`${base}/api/api-keys`, {
    method: "POST",
    headers: { "content-type": "application/json", ...user.bearer },
    body: JSON.stringify({ name, ...settings }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`creating an API key failed: ${res.status} ${text}`);
  return JSON.parse(text) as { id: string; key: string };
}

/** An upload token minted with `apiKey` (`POST /api/upload-tokens`). */
export async function mintUploadToken(
  base: string,
  apiKey: string,
  body: CreateUploadTokenBody = {},
): Promise<UploadToken> {
  const res = await fetch(`${base}/api/upload-tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`minting an upload token failed: ${res.status} ${text}`);
  return JSON.parse(text);
}
