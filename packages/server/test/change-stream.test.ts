import type { VideoStatusEvent } from "@reelkit/sdk/contract";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../../../test/engines.js";
import { createCatalog } from "../src/catalog/catalog.js";
import { VideoCache } from "../src/catalog/video-cache.js";
import { PostgresChangeFeed } from "../src/db/change-feed.js";
import { createTestDatabase, postgresMissing, type TestDatabase, type TestEngine } from "../src/db/test-databases.js";
import { makeQueuedVideo, makeUser, playableEvent, readyEvent } from "./factories.js";
import { startTestApp, type TestApp } from "./test-app.js";

type Instance = TestApp;

/** Reads an event stream as it arrives; `done` resolves when the server closes it. */
function follow(url: string) {
  const state = { text: "", done: Promise.resolve() };
  state.done = (async () => {
    const res = await fetch(url);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const decoder = new TextDecoder();
    for await (const chunk of res.body as AsyncIterable<Uint8Array>)
      state.text += decoder.decode(chunk, { stream: true });
  })();
  return state;
}

const statuses = (text: string): VideoStatusEvent[] =>
  text
    .split("\n\n")
    .filter((block) => block.startsWith("event: status"))
    .map((block) => JSON.parse(block.split("data: ")[1] as string));

for (const engine of ["embedded", "postgres"] as TestEngine[]) {
  const missing = engine === "postgres" ? postgresMissing : null;
  describeWith("postgres", missing, `one change stream across two instances (${engine})`, () => {
    let tdb: TestDatabase;
    const instances: Instance[] = [];
    const feeds: PostgresChangeFeed[] = [];

    beforeAll(async () => {
      tdb = await createTestDatabase(engine);
      for (let i = 0; i < 2; i++) {
        // Each instance listens on a connection of its own and caches on its own, as a process would.
        const feed = new PostgresChangeFeed(tdb.db.url);
        await feed.start();
        feeds.push(feed);
        instances.push(
          await startTestApp({ tdb, catalog: (prisma) => createCatalog(prisma, { cache: new VideoCache(), feed }) }),
        );
      }
    }, 120_000);

    afterAll(async () => {
      for (const instance of instances) await instance.close();
      for (const feed of feeds) await feed.close();
      await tdb?.dispose();
    });

    it("a viewer on B sees every status applied on A, and the stream ends at READY", async () => {
      const [a, b] = instances as [Instance, Instance];
      const owner = await makeUser(tdb.db.prisma);
      const id = await makeQueuedVideo(a.catalog, { title: "seen everywhere", ownerId: owner.id });
      // B caches the QUEUED row first: the changes must reach its cache too, not only its stream.
      expect((await (await fetch(`${b.base}/api/videos/${id}`)).json()).status).toBe("QUEUED");
      const stream = follow(`${b.base}/api/videos/${id}/events`);
      await expect.poll(() => statuses(stream.text).length, { timeout: 5000 }).toBe(1);

      // Each step is applied on A; B's stream must report it before the next one is applied.
      const seen = async (check: (e: VideoStatusEvent) => boolean) =>
        expect.poll(() => statuses(stream.text).some(check), { timeout: 5000 }).toBe(true);
      await a.catalog.transcodes.applyProgress({ videoId: id, attempt: 1, percent: 30, stage: "encoding" });
      await seen((e) => e.status === "PROCESSING" && e.progress === 30);
      expect((await (await fetch(`${b.base}/api/videos/${id}`)).json()).progress).toBe(30);
      await a.catalog.transcodes.applyPlayable(playableEvent(id, 1));
      await seen((e) => e.playable);
      await a.catalog.transcodes.applyProgress({ videoId: id, attempt: 1, percent: 80, stage: "encoding" });
      await seen((e) => e.progress === 80);
      await a.catalog.transcodes.applyReady(readyEvent(id, 1));
      await stream.done;

      const events = statuses(stream.text);
      expect(events[0]).toMatchObject({ videoId: id, status: "QUEUED", playable: false });
      expect(events.at(-1)).toMatchObject({ videoId: id, status: "READY", progress: 100, playable: true });
      // Never backwards: progress only grows, and READY is the last word.
      const progress = events.map((e) => e.progress);
      expect(progress).toEqual([...progress].sort((x, y) => x - y));
      expect((await (await fetch(`${b.base}/api/videos/${id}`)).json()).status).toBe("READY");
    });

    it("a stream on B ends when A deletes the video", async () => {
      const [a, b] = instances as [Instance, Instance];
      const owner = await makeUser(tdb.db.prisma);
      const id = await makeQueuedVideo(a.catalog, { title: "deleted elsewhere", ownerId: owner.id });
      const stream = follow(`${b.base}/api/videos/${id}/events`);
      await expect.poll(() => statuses(stream.text).length, { timeout: 5000 }).toBe(1);
      await a.catalog.edits.delete(id);
      await stream.done;
      expect((await fetch(`${b.base}/api/videos/${id}`)).status).toBe(404);
    });
  });
}
