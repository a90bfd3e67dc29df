/**
 * One transcode job with S3 storage in a process of its own, for bench/s3.ts to measure:
 * `video.uploaded` for SOURCE_KEY in, the ladder written to the bucket, then exit 0 (ready) or 1.
 */
import { type Bus, createLogger, createStorage, loadConfig, MemoryJobStore, QueueBus } from "@reelkit/core";
import { createTranscoder } from "@reelkit/transcoder";

const config = loadConfig(process.env);
const videoId = process.env.VIDEO_ID as string;
const bus: Bus = new QueueBus({ store: new MemoryJobStore(), pollMs: 20 });
const transcoder = createTranscoder({
  config,
  storage: await createStorage(config),
  bus,
  logger: createLogger({ ...config, logLevel: "warn" }, "bench-transcoder"),
});
const done = new Promise<string>((resolve) => {
  void bus.subscribe("bench", {
    "video.transcode.ready": async () => resolve("ready"),
    "video.transcode.failed": async (e) => resolve(`failed: ${e.reason}`),
  });
});
// The bus polls on unref'd timers (a server's sockets keep its process alive): between the two
// phases nothing else would, and the process would end with the job half done.
const keepAlive = setInterval(() => {}, 1_000);
await transcoder.start();
await bus.publish("video.uploaded", { videoId, attempt: 1, sourceKey: `videos/${videoId}/source` }, videoId);
const outcome = await done;
clearInterval(keepAlive);
console.log(outcome);
process.exit(outcome === "ready" ? 0 : 1);
