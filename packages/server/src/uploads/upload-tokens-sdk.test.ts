// @vitest-environment jsdom
/**
 * The SDK's browser uploader (tus-js-client's browser build in jsdom: XMLHttpRequest, File,
 * localStorage, CORS) with upload tokens against the real server on PostgreSQL: the token is
 * asked once per upload, kept with the upload, and resumes it after a "reload"; a refused resume
 * is an error with the API's code, never a silent new upload from byte 0.
 */
import { MIB, ReelkitApiError, uploadVideo } from "@reelkit/sdk";
import type { Video } from "@reelkit/sdk/contract";
import { afterAll, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { describeWith } from "../../../../test/engines.js";
import { createApiKey, mintUploadToken, signUp, type TestUser, uploadAs } from "../../test/factories.js";
import { startTestApp, type TestApp } from "../../test/test-app.js";
import { postgresMissing } from "../db/test-databases.js";

vi.mock("tus-js-client", () => import("tus-js-client/lib.esm/browser/index.js"));

describeWith("postgres", postgresMissing, "SDK uploads with upload tokens (jsdom, PostgreSQL)", () => {
  let t: TestApp;
  let user: TestUser;
  let key: string;

  beforeAll(async () => {
    t = await startTestApp({ engine: "postgres" });
    user = await signUp(t.base);
    key = (await createApiKey(t.base, user)).key;
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(() => localStorage.clear());

  const file = (name: string) =>
    new File([new Uint8Array(7 * MIB).map((_, i) => i % 251)], name, { type: "video/mp4", lastModified: 1 });
  const video = async (id: string): Promise<Video> =>
    (await fetch(`${t.base}/api/videos/${id}`, { headers: user.bearer })).json() as Promise<Video>;

  /** Uploads the first 5 MiB chunk and stops, as a page reload would (the fingerprint stays). */
  async function uploadHalf(f: File, getToken: () => Promise<string>): Promise<string> {
    let id = "";
    await new Promise<void>((resolve, reject) => {
      const handle = uploadVideo(t.base, f, {
        chunkSize: 5 * MIB,
        getToken,
        onCreated: (created) => {
          id = created;
        },
        onProgress: (p) => {
          if (p.bytesSent >= 5 * MIB) void handle.pause().then(resolve);
        },
      });
      handle.done.catch(reject);
    });
    return id;
  }

  it("asks for a token once per upload and resumes after a reload with the same token, asking none", async () => {
    const f = file("once.mp4");
    const getToken = vi.fn(async () => (await mintUploadToken(t.base, key, { passthrough: "p-1" })).token);
    const id = await uploadHalf(f, getToken);
    expect(getToken).toHaveBeenCalledTimes(1);
    expect((await video(id)).status).toBe("UPLOADING");

    // The "reloaded" page: a new uploadVideo for the same file.
    const again = vi.fn(async () => (await mintUploadToken(t.base, key)).token);
    const progress: number[] = [];
    const result = await uploadVideo(t.base, f, {
      chunkSize: 5 * MIB,
      getToken: again,
      onProgress: (p) => progress.push(p.bytesSent),
    }).done;
    expect(again).not.toHaveBeenCalled();
    expect(result.videoId).toBe(id);
    // Resumed from its offset, not from 0.
    expect(Math.min(...progress)).toBeGreaterThanOrEqual(5 * MIB);
    expect(await video(id)).toMatchObject({ status: "QUEUED", passthrough: "p-1", visibility: "UNLISTED" });
    expect(await t.prisma.video.count({ where: { passthrough: "p-1" } })).toBe(1);
  });

  it("a refused resume (the token expired) is an error with the API's code, not a new upload from 0", async () => {
    const f = file("expired.mp4");
    const id = await uploadHalf(f, async () => (await mintUploadToken(t.base, key)).token);
    await t.prisma.uploadToken.updateMany({
      where: { id: (await t.prisma.video.findUniqueOrThrow({ where: { id } })).uploadTokenId as string },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const getToken = vi.fn(async () => (await mintUploadToken(t.base, key)).token);
    const error = await uploadVideo(t.base, f, { chunkSize: 5 * MIB, getToken, retryDelays: [0, 10] }).done.catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ReelkitApiError);
    expect(error).toMatchObject({ status: 401, code: "UPLOAD_TOKEN_EXPIRED" });
    expect(getToken).not.toHaveBeenCalled();
    // No second video was created behind the caller's back.
    const videos = await t.prisma.video.count({ where: { filename: "expired.mp4" } });
    expect(videos).toBe(1);
    // A retry starts afresh, asking for a new token once.
    const retried = await uploadVideo(t.base, f, { chunkSize: 5 * MIB, getToken }).done;
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(retried.videoId).not.toBe(id);
  });

  it("fails at once when getToken throws, and gives API errors their code", async () => {
    const started = Date.now();
    const thrown = await uploadVideo(t.base, file("throws.mp4"), {
      getToken: () => {
        throw new Error("backend down");
      },
    }).done.catch((e: unknown) => e);
    expect((thrown as Error).message).toBe("backend down");
    expect(Date.now() - started).toBeLessThan(2_000);

    const small = await mintUploadToken(t.base, key, { maxSize: MIB, contentTypes: ["video/*"] });
    const tooLarge = await uploadVideo(t.base, file("large.mp4"), { getToken: () => small.token }).done.catch(
      (e: unknown) => e,
    );
    expect(tooLarge).toMatchObject({ name: "ReelkitApiError", status: 413, code: "UPLOAD_TOO_LARGE" });
  });

  it("takes visibility and tags from a session upload's metadata; an upload token's own settings win", async () => {
    const own = await uploadAs(t.base, user.bearer, {
      filename: "a.mp4",
      visibility: "private",
      tags: "Sea, trip,sea",
    });
    expect(await video(own)).toMatchObject({ visibility: "PRIVATE", tags: ["sea", "trip"] });
    const { token } = await mintUploadToken(t.base, key, { visibility: "UNLISTED", tags: ["site"] });
    const viaToken = await uploadAs(
      t.base,
      { authorization: `Bearer ${token}` },
      { filename: "b.mp4", filetype: "video/mp4", visibility: "PUBLIC", tags: "mine" },
    );
    expect(await video(viaToken)).toMatchObject({ visibility: "UNLISTED", tags: ["site"] });
  });
});
