import { type FSWatcher, watch } from "node:fs";
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
  type Rendition,
  type Storage,
  StorageDeliveryLedger,
  type TranscodeFailed,
  type VideoUploaded,
} from "@reelkit/core";
import {
  AUDIO_BITRATE,
  AUDIO_CODEC,
  buildHlsRuns,
  h264Codec,
  h264SourceCodec,
  SEGMENT_SECONDS,
} from "./ffmpeg-args.js";
import { FfmpegError, runFfmpeg } from "./ffmpeg-runner.js";
import { HlsPublisher } from "./hls-publisher.js";
import { planStoryboard, posterArgs, storyboardArgs, storyboardVtt } from "./images.js";
import { displaySize, planLadder } from "./ladder.js";
import { isStreamableCoding, planPassthrough } from "./passthrough.js";
import {
  type MeasuredStream,
  parseMediaPlaylist,
  writeMasterPlaylist,
  writeNominalMasterPlaylist,
} from "./playlist.js";
import { ProbeError, probeFile, probeKeyframes, resolveBinaries, withoutPaths } from "./probe.js";

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
 * New segments are looked for whenever ffmpeg rewrites a playlist (inotify), and at least this
 * often in case a change notification is lost.
 */
const PUBLISH_FALLBACK_MS = 1_000;

/** Wakes the publishing loop whenever ffmpeg writes one of its playlists (index.m3u8). */
class PlaylistWatch {
  #changed = false;
  #wake: (() => void) | null = null;
  #closed = false;
  readonly #watchers: FSWatcher[] = [];

  constructor(dirs: readonly string[]) {
    for (const dir of dirs) {
      try {
        const w = watch(dir, (_event, name) => {
          if (name?.startsWith("index.m3u8")) this.#fire();
        });
        w.on("error", () => {}); // the fallback interval still finds the segments
        this.#watchers.push(w);
      } catch {
        // no inotify here: the fallback interval finds the segments
      }
    }
  }

  #fire(): void {
    this.#changed = true;
    this.#wake?.();
  }

  /** Resolves at the next playlist change since the last call (at once if there was one), or after `maxMs`. */
  async next(maxMs: number): Promise<void> {
    if (!this.#changed && !this.#closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, maxMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.#wake = null;
    this.#changed = false;
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#watchers) w.close();
    this.#wake?.();
  }
}

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

class JobFailure extends Error {
  constructor(
    readonly code: TranscodeFailed["code"],
    message: string,
  ) {
    super(message);
  }
}

async function measure(dir: string): Promise<MeasuredStream> {
  const text = await fs.readFile(path.join(dir, "index.m3u8"), "utf8");
  const segments = await Promise.all(
    parseMediaPlaylist(text).map(async (s) => ({
      duration: s.duration,
      size: (await fs.stat(path.join(dir, s.uri))).size,
    })),
  );
  const initSize = (await fs.stat(path.join(dir, "init.mp4")).catch(() => null))?.size ?? 0;
  return { segments, initSize };
}

/**
 * Takes down what a job that ended FAILED had published while it ran (EVENT playlists that would
 * never end): the master first, so no new player starts, then the media playlists, then the
 * segments they named, so no playlist ever names a segment that is gone.
 */
export async function removePublishedOutput(storage: Storage, videoId: string): Promise<void> {
  const prefix = keys.hlsPrefix(videoId);
  await storage.delete(keys.master(videoId));
  const objects = await storage.list(prefix);
  await Promise.all(objects.filter((o) => o.key.endsWith(".m3u8")).map((o) => storage.delete(o.key)));
  await storage.deletePrefix(prefix);
}

/**
 * The bus consumer: `video.uploaded` in, HLS ladder + images in storage, progress/ready/failed
 * out. Never touches the catalog. Same video id -> same keys, so a redelivery overwrites.
 */
export function createTranscoder(deps: TranscoderDeps): Transcoder {
  const { config, storage, bus, logger } = deps;
  const workRoot = deps.workRoot ?? os.tmpdir();

  async function transcode(ev: VideoUploaded, signal: AbortSignal, work: string, log: Logger): Promise<void> {
    const { videoId, attempt } = ev;
    const jobStarted = Date.now();
    let lastSent = -1;
    const progress = async (stage: "probing" | "encoding" | "images" | "finalizing", percent: number) => {
      const p = Math.floor(percent);
      if (p === lastSent) return;
      lastSent = p;
      // Progress is advisory: a bus outage must not fail the job (ready/failed are retried).
      await bus
        .publish("video.transcode.progress", { videoId, attempt, percent: p, stage }, videoId)
        .catch((err) => logger.warn({ err, videoId }, "could not publish progress"));
    };
    // Progress events go out in order, without holding up the work (each is a committed row).
    let pending = progress("probing", 0);
    const stat = await storage.stat(ev.sourceKey);
    if (!stat) throw new JobFailure("SOURCE_MISSING", "The uploaded file could not be found.");
    if (stat.size === 0) throw new JobFailure("EMPTY_SOURCE", "The uploaded file is empty.");
    // Local storage: ffmpeg reads the stored source in place (a multi-GB copy per job saved).
    // Keys are immutable per video, so nothing rewrites it while ffmpeg reads.
    let source = storage.localPath(ev.sourceKey);
    if (!source) {
      source = path.join(work, "source");
      await storage.getToFile(ev.sourceKey, source);
    }
    const bin = resolveBinaries(config);
    // Keyframes (read from the packet index, no decoding) matter only for sources that may pass
    // through; they are read beside the probe and the read is stopped for the others.
    const keyframeRead = new AbortController();
    const keyframesRead = probeKeyframes(bin.ffprobe, source, AbortSignal.any([signal, keyframeRead.signal])).catch(
      () => [] as number[],
    );
    let keyframes: number[] = [];
    let probe: Awaited<ReturnType<typeof probeFile>>;
    try {
      probe = await probeFile(bin.ffprobe, source, signal);
      if (isStreamableCoding(probe) === null) keyframes = await keyframesRead;
    } finally {
      keyframeRead.abort(new Error("keyframes not needed"));
      await keyframesRead;
    }
    const ladder = planLadder(probe, config.rungs);
    const plan = planPassthrough({ probe, ladder, keyframes });
    const probedAt = Date.now();
    const passthrough = plan.passthrough ? plan : undefined;
    if (!plan.passthrough) log.debug({ reason: plan.reason }, "encoding every rung");
    const out = path.join(work, "hls");
    const renditionNames = [...ladder.map((r) => r.name), ...(probe.hasAudio ? ["audio"] : [])];
    for (const dir of renditionNames) await fs.mkdir(path.join(out, dir), { recursive: true });

    const hls = keys.hlsPrefix(videoId);
    const display = displaySize(probe);
    // A copied segment ends at the first source keyframe past its nominal end.
    const videoTarget = SEGMENT_SECONDS + (passthrough?.maxGapSec ?? 0);
    const publisher = new HlsPublisher({
      storage,
      localDir: out,
      prefix: hls,
      renditions: renditionNames.map((name) => ({
        name,
        targetDuration: name === "audio" ? SEGMENT_SECONDS + 1 : videoTarget,
      })),
    });
    await publisher.resume();
    const codecsOf = (i: number) =>
      passthrough && i === 0
        ? h264SourceCodec(probe.video.profile, probe.video.level)
        : h264Codec(ladder[i]?.width ?? 0, ladder[i]?.height ?? 0, probe.frameRate);
    const sourceRate = Math.round((stat.size * 8) / probe.durationSec);
    const nominal = ladder.map((r, i) => {
      const video =
        passthrough && i === 0
          ? { peak: Math.round(sourceRate * 1.5), average: sourceRate }
          : { peak: r.maxrate, average: r.videoBitrate };
      return {
        uri: `${r.name}/index.m3u8`,
        width: r.width,
        height: r.height,
        codecs: codecsOf(i),
        frameRate: probe.frameRate,
        video,
      };
    });
    const renditionsWith = (rates: readonly { peak: number; average: number }[]): Rendition[] =>
      nominal.map((v, i) => ({
        name: ladder[i]?.name ?? v.uri,
        width: v.width,
        height: v.height,
        bandwidth: rates[i]?.peak ?? 0,
        averageBandwidth: rates[i]?.average ?? 0,
        codecs: probe.hasAudio ? `${v.codecs},${AUDIO_CODEC}` : v.codecs,
        frameRate: v.frameRate,
        playlistKey: `${hls}${v.uri}`,
      }));

    let playable = false;
    const announcePlayable = async () => {
      if (playable || !publisher.started()) return;
      playable = true;
      const master = writeNominalMasterPlaylist({
        variants: nominal,
        audio: probe.hasAudio ? { uri: "audio/index.m3u8", bitrate: AUDIO_BITRATE } : null,
      });
      // The master is stored after every playlist it names has a segment, the event after the master.
      await storage.put(keys.master(videoId), master.text);
      await bus.publish(
        "video.transcode.playable",
        {
          videoId,
          attempt,
          masterKey: keys.master(videoId),
          durationSec: probe.durationSec,
          width: display.width,
          height: display.height,
          frameRate: probe.frameRate,
          hasAudio: probe.hasAudio,
          renditions: renditionsWith(master.rates),
          passthrough: passthrough !== undefined,
        },
        videoId,
      );
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
          passthrough: passthrough !== undefined,
        },
        "transcode playable",
      );
    };

    pending = pending.then(() => progress("encoding", 2));
    const ffmpegStartedAt = Date.now();
    // Segments go to storage while ffmpeg runs, as soon as it lists them.
    let publishError: unknown = null;
    let encoding = true;
    // A failed store stops ffmpeg at once: the delivery fails and is retried from the start.
    const encoder = new AbortController();
    const watching = new PlaylistWatch(renditionNames.map((name) => path.join(out, name)));
    const publishing = (async () => {
      while (encoding && publishError === null) {
        await watching.next(PUBLISH_FALLBACK_MS);
        if (!encoding) break;
        await publisher
          .sync({ final: false })
          .then(announcePlayable)
          .catch((err) => {
            publishError = err;
            encoder.abort(err);
          });
      }
    })();
    // One process, or two side by side for a passthrough source (the copy and the encode, see
    // buildHlsRuns); progress comes from the last, the longest. Any failure stops the others.
    const runs = buildHlsRuns({
      input: source,
      outDir: out,
      ladder,
      frameRate: probe.frameRate,
      hasAudio: probe.hasAudio,
      passthrough,
    });
    const failed = new AbortController();
    try {
      await Promise.all(
        runs.map((args, i) =>
          runFfmpeg({
            ffmpeg: bin.ffmpeg,
            args,
            durationSec: probe.durationSec,
            signal: AbortSignal.any([signal, encoder.signal, failed.signal]),
            onProgress:
              i === runs.length - 1
                ? (p) => {
                    pending = pending.then(() => progress("encoding", 2 + p * 0.88)).catch(() => {});
                  }
                : undefined,
          }).catch((err) => {
            // The first failure stops the other runs; they then fail with the same reason.
            failed.abort(err);
          }),
        ),
      );
      // Every run has ended; a failure is the abort reason, the first one.
      if (failed.signal.aborted) {
        const err: unknown = failed.signal.reason;
        // Only an ffmpeg that exited by itself says something about the input; one ended by a
        // signal (InterruptedError) or by our stop (the abort reason) is retried.
        if (err instanceof FfmpegError) {
          const failure = new JobFailure(
            "UNDECODABLE",
            `The video could not be decoded (${withoutPaths(err.message)}).`,
          );
          failure.cause = err; // the log keeps ffmpeg's own words
          throw failure;
        }
        throw err;
      }
    } finally {
      encoding = false;
      watching.close();
      await publishing;
    }
    if (publishError !== null) throw publishError;
    await pending;
    // Every segment stored, then the playlists end: players switch from EVENT to VOD here.
    await publisher.sync({ final: true });
    await announcePlayable();

    await progress("images", 90);
    const storyboard = planStoryboard({ durationSec: probe.durationSec, ...display });
    const poster = path.join(work, "poster.jpg");
    const sprite = path.join(work, "storyboard.jpg");
    await runFfmpeg({
      ffmpeg: bin.ffmpeg,
      args: posterArgs({ input: source, output: poster, atSec: Math.min(1, probe.durationSec / 3) }),
      signal,
    });
    await runFfmpeg({
      ffmpeg: bin.ffmpeg,
      args: storyboardArgs({ input: source, output: sprite, plan: storyboard }),
      signal,
    });

    await progress("finalizing", 95);
    const audio = probe.hasAudio ? { uri: "audio/index.m3u8", ...(await measure(path.join(out, "audio"))) } : null;
    const variants = await Promise.all(
      nominal.map(async (v, i) => ({ ...v, video: await measure(path.join(out, ladder[i]?.name ?? "")) })),
    );
    const master = writeMasterPlaylist({ variants, audio });
    await storage.putFile(keys.poster(videoId), poster);
    await storage.putFile(keys.storyboard(videoId), sprite);
    await storage.put(keys.storyboardVtt(videoId), storyboardVtt(storyboard, probe.durationSec));
    await storage.put(keys.master(videoId), master.text);
    // A redelivery rewrote the same keys; clear what an earlier, different output left behind.
    const current = new Set([...publisher.keys(), keys.master(videoId)]);
    for (const o of await storage.list(hls)) if (!current.has(o.key)) await storage.delete(o.key);

    await bus.publish(
      "video.transcode.ready",
      {
        videoId,
        attempt,
        durationSec: probe.durationSec,
        width: display.width,
        height: display.height,
        frameRate: probe.frameRate,
        hasAudio: probe.hasAudio,
        renditions: renditionsWith(master.rates),
        masterKey: keys.master(videoId),
        posterKey: keys.poster(videoId),
        storyboardKey: keys.storyboard(videoId),
        storyboardVttKey: keys.storyboardVtt(videoId),
      },
      videoId,
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
      if (!(err instanceof JobFailure || err instanceof ProbeError)) {
        log.warn({ err }, "transcode attempt failed; it will be retried");
        throw err;
      }
      log.warn({ code: err.code, reason: err.message }, "transcode failed");
      await bus.publish(
        "video.transcode.failed",
        { videoId: ev.videoId, attempt: ev.attempt, code: err.code, reason: err.message },
        ev.videoId,
      );
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
