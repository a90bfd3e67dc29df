import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  type Bus,
  type BusMessage,
  type Config,
  type DeliveryContext,
  isProcessAlive,
  keys,
  type Logger,
  type Storage,
  StorageDeliveryLedger,
  type TranscodeFailed,
  type VideoUploaded,
} from "@reelkit/core";
import { buildHlsRuns } from "./ffmpeg-args.js";
import { encodeHls, UndecodableError } from "./hls-encoder.js";
import { HlsPublisher } from "./hls-publisher.js";
import { measuredMaster, publishImages, removeOutputOtherThan, removePublishedOutput } from "./job-output.js";
import { type JobPlan, planJob, playableMessage, readyMessage } from "./job-plan.js";
import { writeNominalMasterPlaylist } from "./playlist.js";
import { ProbeError, resolveBinaries, withoutPaths } from "./probe.js";
import { ProgressReporter } from "./progress-reporter.js";
import { readSource, SourceError } from "./source-reader.js";

export { removePublishedOutput } from "./job-output.js";

export const CONSUMER_GROUP = "reelkit-transcoder";

export interface TranscoderDeps {
  config: Pick<Config, "ffmpegPath" | "ffprobePath" | "rungs" | "transcodeConcurrency">;
  storage: Storage;
  bus: Bus;
  logger: Logger;
  /** Where per-job work directories go; the OS temp directory by default. */
  workRoot?: string;
}

const WORK_DIR_PREFIX = "reelkit-transcode-";
/**
 * Work directories are named after the process that owns them; those of processes that died
 * (a crash mid-job) are removed at start. A live owner's directory is never touched.
 */
async function removeStaleWorkDirs(root: string, logger: Logger): Promise<void> {
  const names = await fs.readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    const m = new RegExp(`^${WORK_DIR_PREFIX}(\\d+)-`).exec(name);
    const pid = Number(m?.[1]);
    if (!m || pid === process.pid || isProcessAlive(pid)) continue;
    await fs
      .rm(path.join(root, name), { recursive: true, force: true, maxRetries: 3 })
      .then(() => logger.info({ dir: name }, "removed the work directory of a crashed transcode"))
      .catch((err) => logger.warn({ err, dir: name }, "could not remove a stale work directory"));
  }
}

export interface Transcoder {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The bus consumer: `video.uploaded` in, HLS ladder + images in storage, progress/ready/failed
 * out. Never touches the catalog. Same video id -> same keys, so a redelivery overwrites.
 */
export function createTranscoder(deps: TranscoderDeps): Transcoder {
  const { config, storage, bus, logger } = deps;
  const workRoot = deps.workRoot ?? os.tmpdir();

  /**
   * One job, step by step: read the source, plan, run FFmpeg while publishing its segments,
   * announce the video playable once every rendition has begun, then publish the images and
   * the measured master and announce it ready.
   */
  async function transcode(ev: VideoUploaded, signal: AbortSignal, work: string, log: Logger): Promise<void> {
    const { videoId, attempt } = ev;
    const jobStarted = Date.now();
    const progress = new ProgressReporter({ bus, videoId, attempt, logger });
    progress.report("probing", 0);
    const bin = resolveBinaries(config);
    const source = await readSource({ storage, sourceKey: ev.sourceKey, bin, work, signal });
    const plan = planJob({
      probe: source.probe,
      keyframes: source.keyframes,
      sourceSize: source.size,
      rungs: config.rungs,
    });
    const probedAt = Date.now();
    if (plan.encodeReason) log.debug({ reason: plan.encodeReason }, "encoding every rung");

    const out = path.join(work, "hls");
    for (const r of plan.renditions) await fs.mkdir(path.join(out, r.name), { recursive: true });
    const publisher = new HlsPublisher({
      storage,
      localDir: out,
      prefix: keys.hlsPrefix(videoId),
      renditions: plan.renditions,
    });
    await publisher.resume();

    progress.report("encoding", 2);
    const ffmpegStartedAt = Date.now();
    let playable = false;
    const announcePlayable = async () => {
      if (playable || !publisher.started()) return;
      playable = true;
      await publishPlayable(ev, plan);
      // Where the time to playable went (ms since the job started), for operators and the benchmark.
      const since = (t: number | null) => (t === null ? null : t - jobStarted);
      log.info(
        {
          ms: Date.now() - jobStarted,
          probedMs: since(probedAt),
          ffmpegStartedMs: since(ffmpegStartedAt),
          firstSegmentMs: Object.fromEntries(
            Object.entries(publisher.firstListedAt()).map(([name, t]) => [name, since(t)]),
          ),
          passthrough: plan.passthrough !== undefined,
        },
        "transcode playable",
      );
    };
    await encodeHls({
      ffmpeg: bin.ffmpeg,
      runs: buildHlsRuns({
        input: source.file,
        outDir: out,
        ladder: plan.ladder,
        frameRate: plan.probe.frameRate,
        hasAudio: plan.probe.hasAudio,
        passthrough: plan.passthrough,
      }),
      durationSec: plan.probe.durationSec,
      watchDirs: plan.renditions.map((r) => path.join(out, r.name)),
      publisher,
      onPublished: announcePlayable,
      onProgress: (p) => progress.report("encoding", 2 + p * 0.88),
      signal,
    });
    await progress.flushed();
    // Every segment stored, then the playlists end: players switch from EVENT to VOD here.
    await publisher.sync({ final: true });
    await announcePlayable();

    progress.report("images", 90);
    const images = await publishImages({
      storage,
      videoId,
      ffmpeg: bin.ffmpeg,
      source: source.file,
      plan,
      work,
      signal,
    });
    progress.report("finalizing", 95);
    await progress.flushed();
    const master = await measuredMaster(plan, out);
    await storage.put(keys.master(videoId), master.text);
    // A redelivery rewrote the same keys; clear what an earlier, different output left behind.
    await removeOutputOtherThan(storage, videoId, publisher.keys());
    await bus.publish(
      "video.transcode.ready",
      readyMessage(plan, { ...outputRef(ev), rates: master.rates, images }),
      videoId,
    );
  }

  function outputRef(ev: VideoUploaded) {
    return {
      videoId: ev.videoId,
      attempt: ev.attempt,
      masterKey: keys.master(ev.videoId),
      hlsPrefix: keys.hlsPrefix(ev.videoId),
    };
  }

  /** Stores the nominal master (after every playlist it names has a segment), then says so. */
  async function publishPlayable(ev: VideoUploaded, plan: JobPlan): Promise<void> {
    const master = writeNominalMasterPlaylist({ variants: plan.variants, audio: plan.audio });
    await storage.put(keys.master(ev.videoId), master.text);
    await bus.publish(
      "video.transcode.playable",
      playableMessage(plan, { ...outputRef(ev), rates: master.rates }),
      ev.videoId,
    );
  }

  /**
   * One delivery of `video.uploaded`. Resolves (the bus acknowledges) once the outcome is
   * published: ready, or failed for a reason in the input. Anything else throws, so the bus
   * delivers the job again; a stop or a lost lease aborts `ctx.signal`, which stops ffmpeg.
   */
  async function handle(ev: VideoUploaded, ctx: DeliveryContext): Promise<void> {
    const work = await fs.mkdtemp(path.join(workRoot, `${WORK_DIR_PREFIX}${process.pid}-`));
    const log = logger.child({ videoId: ev.videoId, attempt: ev.attempt, delivery: ctx.deliveryAttempt });
    try {
      const started = Date.now();
      log.info("transcode started");
      await transcode(ev, ctx.signal, work, log);
      log.info({ ms: Date.now() - started }, "transcode ready");
    } catch (err) {
      if (ctx.signal.aborted) {
        log.warn({ reason: String(ctx.signal.reason) }, "transcode stopped; the job goes back to the queue");
        throw err;
      }
      const failure = inputFailure(err);
      if (!failure) {
        log.warn({ err }, "transcode attempt failed; it will be retried");
        throw err;
      }
      log.warn({ ...failure, err }, "transcode failed");
      await bus.publish("video.transcode.failed", { videoId: ev.videoId, attempt: ev.attempt, ...failure }, ev.videoId);
      await removeFailedOutput(ev.videoId, log);
    } finally {
      await fs.rm(work, { recursive: true, force: true, maxRetries: 3 });
    }
  }

  /**
   * A FAILED video is never played: once the catalog has been told (it stops handing out the
   * playback URL), its partial output goes. Best effort: deleting the video removes it too.
   */
  async function removeFailedOutput(videoId: string, log: Logger): Promise<void> {
    await removePublishedOutput(storage, videoId).catch((err) =>
      log.warn({ err }, "could not remove the partial output of a failed transcode"),
    );
  }

  /** After the last attempt the bus parks the job; the owner then reads why. */
  async function parked(message: BusMessage, error: string): Promise<void> {
    if (message.topic !== "video.uploaded") return;
    const { videoId, attempt } = message.payload;
    await bus.publish(
      "video.transcode.failed",
      {
        videoId,
        attempt,
        code: "TRANSCODE_ERROR",
        reason: "The video could not be processed: every attempt failed. Try uploading it again.",
      },
      videoId,
    );
    logger.error({ videoId, attempt, error }, "transcode parked after its last attempt");
    await removeFailedOutput(videoId, logger.child({ videoId, attempt }));
  }

  return {
    async start() {
      await removeStaleWorkDirs(workRoot, logger);
      await bus.subscribe(
        CONSUMER_GROUP,
        { "video.uploaded": handle },
        {
          concurrency: Math.max(1, config.transcodeConcurrency),
          onParked: parked,
          // A job can kill its process (ffmpeg eating the memory, a crash): its deliveries are
          // counted in storage, so it is parked after N whichever transcoders tried.
          deliveryLedger: new StorageDeliveryLedger(storage),
        },
      );
    },
    /** Stops ffmpeg and hands every running job back to the bus (for the next transcoder). */
    async stop() {
      await bus.unsubscribe(CONSUMER_GROUP);
    },
  };
}

/**
 * The reason a job failed because of its input (told to the owner, not retried), or null for
 * anything else (a stop, a crash, storage or bus trouble: the job is retried).
 */
export function inputFailure(err: unknown): Pick<TranscodeFailed, "code" | "reason"> | null {
  if (err instanceof SourceError || err instanceof ProbeError) return { code: err.code, reason: err.message };
  if (err instanceof UndecodableError)
    return { code: "UNDECODABLE", reason: `The video could not be decoded (${withoutPaths(err.message)}).` };
  return null;
}
