import { keys, type LocalStorage } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import * as tus from "tus-js-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestDatabase } from "../src/db/test-databases.js";
import { signUp, type TestUser } from "./factories.js";
import { startTestApp } from "./test-app.js";

let tdb: TestDatabase;
let app: FastifyInstance;
let base: string;
let storage: LocalStorage;
let user: TestUser;

beforeAll(async () => {
  ({ tdb, app, base, storage } = await startTestApp());
  user = await signUp(base);
}, 60_000);
afterAll(async () => {
  await app?.close();
  await tdb?.dispose();
});

describe("tus-js-client upload into the real catalog", () => {
  it("creates an UPLOADING video, then QUEUED with one outbox row once the last chunk lands", async () => {
    const data = Buffer.alloc(300_000, 1);
    let videoId: string | null = null;
    let statusAfterFirstChunk: string | undefined;
    await new Promise<void>((resolve, reject) => {
      const upload = new tus.Upload(data, {
        endpoint: `${base}/api/uploads`,
        chunkSize: 100_000,
        retryDelays: [],
        headers: user.bearer,
        metadata: { filename: "clip.mp4", title: "Harbour", description: "Boats" },
        onAfterResponse: async (req, res) => {
          if (req.getMethod() === "POST") videoId = res.getHeader("Reelkit-Video-Id") ?? null;
          if (req.getMethod() === "PATCH" && statusAfterFirstChunk === undefined && videoId) {
            statusAfterFirstChunk = (await tdb.db.prisma.video.findUnique({ where: { id: videoId } }))?.status;
          }
        },
        onError: reject,
        onSuccess: () => resolve(),
      });
      upload.start();
    });
    expect(videoId).not.toBeNull();
    const id = videoId as unknown as string;
    expect(statusAfterFirstChunk).toBe("UPLOADING");
    const video = await tdb.db.prisma.video.findUniqueOrThrow({ where: { id } });
    expect(video).toMatchObject({
      status: "QUEUED",
      ownerId: user.id,
      title: "Harbour",
      description: "Boats",
      filename: "clip.mp4",
      sourceKey: keys.source(id),
    });
    expect(Number(video.sourceSize)).toBe(300_000);
    const rows = await tdb.db.prisma.outbox.findMany({ where: { key: id }, orderBy: { id: "asc" } });
    expect(rows.filter((r) => r.topic !== "video.event").map((r) => r.topic)).toEqual(["video.uploaded"]);
    expect((await storage.stat(keys.source(id)))?.size).toBe(300_000);
  });
});
