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
  type TranscodeReady,
  type VideoUploaded,
} from "@reelkit/core";
import { buildPhaseRuns, type ExtraOutput } from "./ffmpeg-args.js";
import { encodeHls, UndecodableError } from "./hls-encoder.js";
import { HlsPublisher } from "./hls-publisher.js";
import { imageOutputs } from "./images.js";
import {
  type MeasuredStreamRecord,
  measureRendition,
  planImages,
  publishImages,
  removePublishedOutput,
} from "./job-output.js";
import { type JobPlan, planJob, planPhases, planWith, playableMessage, readyMessage } from "./job-plan.js";
import { writeMasterPlaylist, writeNominalMasterPlaylist } from "./playlist.js";
import { LADDER_NICE, PLAYING_NICE, playableNice } from "./priorities.js";
import { ProbeError, probeChapters, resolveBinaries, withoutPaths } from "./probe.js";
import { ProgressReporter } from "./progress-reporter.js";
import { readSource, SourceError } from "./source-reader.js";

export { removePublishedOutput } from "./job-output.js";

/** What the playable phase leaves for the ladder phase: its renditions, measured. */
interface PlayableRecord {
  attempt: number;
  measured: Record<string, MeasuredStreamRecord>;
}

export const CONSUMER_GROUP = "reelkit-transcoder";

export interface TranscoderDeps {
  config: Pick<Config, "ffmpegPath" | "ffprobePath" | "rungs" | "transcodeConcurrency"> &
    Partial<Pick<Config, "transcodeShares">>;
  storage: Storage;
  bus: Bus;
  logger: Logger;
  /** Where per-job work directories go; the OS temp directory by default. */
  workRoot?: string;
}

/** Share of a video's progress percent that its playable phase covers. */
const PLAYABLE_SHARE = 0.28;

/** The machine's memory, or the container's limit (cgroup) when that is lower. */
function availableMemory(): number {
  const limit = process.constrainedMemory();
  const total = os.totalmem();
  return limit > 0 && limit < total ? limit : total;
}

/** Memory a playable phase's FFmpeg may take (a 1080p decode, one small encode), for `auto`. */
const PLAYABLE_MEMORY = 256 * 1024 ** 2;

/**
 * Jobs at once per phase. `auto`: playable phases, five per core (as many as memory allows at
 * PLAYABLE_MEMORY each, a container's limit counted) — a viewer waits only for the first
 * segment of each, a few tenths of a CPU second, so a burst is playable together rather than
 * one after another, and each still encodes faster than real time; the last fifth of those
 * slots is kept for owners running none (`reserve`), so another uploader's video starts at once
 * during one owner's burst. Ladders beside them, one per core, niced, so idle CPU goes to them
 * without slowing the rest (on Kafka one ladder consumer per process: see kafka-bus.ts). A
 * number: at most that many of either, and of both together, nothing reserved.
 */
export function phaseSlots(
  concurrency: number | "auto",
  cores: number,
  memory = availableMemory(),
): { playable: number; ladder: number; total: number; reserve: number } {
  if (concurrency === "auto") {
    const playable = Math.max(1, Math.min(cores * 5, Math.floor(memory / PLAYABLE_MEMORY)));
    const ladder = Math.max(1, cores);
    return { playable, ladder, total: playable + ladder, reserve: Math.floor(playable / 5) };
  }
  const n = Math.max(1, concurrency);
  return { playable: n, ladder: n, total: n, reserve: 0 };
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
  /** Playable phases running in this process whose video does not play yet, per owner (their CPU priority). */
  const notYetPlayable = new Map<string, number>();

  /** Reads and plans a job's source (each phase does, on whichever transcoder it runs). */
  async function planSource(ev: VideoUploaded, signal: AbortSignal, work: string) {
    const bin = resolveBinaries(config);
    const source = await readSource({ storage, sourceKey: ev.sourceKey, bin, work, signal });
    const plan = planJob({
      probe: source.probe,
      keyframes: source.keyframes,
      sourceSize: source.size,
      rungs: config.rungs,
    });
    return { bin, source, plan, phases: planPhases(plan) };
  }

  /** Runs one phase's ffmpeg while publishing its renditions; `onStarted` once every one has a segment. */
  async function encodePhase(opts: {
    ev: VideoUploaded;
    phase: "playable" | "ladder";
    planned: Awaited<ReturnType<typeof planSource>>;
    names: readonly string[];
    work: string;
    signal: AbortSignal;
    onStarted: (publisher: HlsPublisher) => Promise<void>;
    onProgress: (percent: number) => void;
    /** CPU niceness of the encode (see priorities.ts). */
    nice: number;
    /** Images rendered by the encode from its own frames. */
    extraOutputs?: readonly ExtraOutput[];
  }): Promise<{ publisher: HlsPublisher; out: string }> {
    const { ev, planned, phase } = opts;
    const { plan, source, bin, phases } = planned;
    const out = path.join(opts.work, "hls");
    const sub = planWith(plan, opts.names);
    for (const r of sub.renditions) await fs.mkdir(path.join(out, r.name), { recursive: true });
    const publisher = new HlsPublisher({
      storage,
      localDir: out,
      prefix: keys.hlsPrefix(ev.videoId),
      renditions: sub.renditions,
    });
    await publisher.resume();
    let started = false;
    const announce = async () => {
      if (started || !publisher.started()) return;
      started = true;
      await opts.onStarted(publisher);
    };
    const runs = buildPhaseRuns(
      {
        input: source.file,
        outDir: out,
        ladder: plan.ladder,
        frameRate: plan.probe.frameRate,
        hasAudio: plan.probe.hasAudio,
        passthrough: plan.passthrough,
        extraOutputs: opts.extraOutputs,
      },
      phase,
      phases.fastRung,
    );
    if (runs.length > 0) {
      await encodeHls({
        ffmpeg: bin.ffmpeg,
        runs,
        durationSec: plan.probe.durationSec,
        watchDirs: sub.renditions.map((r) => path.join(out, r.name)),
        publisher,
        onPublished: announce,
        onProgress: opts.onProgress,
        signal: opts.signal,
        nice: opts.nice,
        niceOnceStarted: phase === "playable" ? PLAYING_NICE : undefined,
      });
      // Every segment stored, then the playlists end: players switch from EVENT to VOD here.
      await publisher.sync({ final: true });
      await announce();
    }
    return { publisher, out };
  }

  /**
   * Runs a playable phase counted among its owner's not yet playable ones here, at the CPU
   * priority that count gives it (priorities.ts), until its video plays or the phase ends.
   */
  async function playablePhase(ev: VideoUploaded, signal: AbortSignal, work: string, log: Logger): Promise<void> {
    const owner = ev.ownerId ?? "";
    const ahead = notYetPlayable.get(owner) ?? 0;
    notYetPlayable.set(owner, ahead + 1);
    let counted = true;
    const plays = () => {
      if (!counted) return;
      counted = false;
      const left = (notYetPlayable.get(owner) ?? 1) - 1;
      if (left > 0) notYetPlayable.set(owner, left);
      else notYetPlayable.delete(owner);
    };
    try {
      await runPlayablePhase(ev, signal, work, log, { nice: playableNice(ahead), plays });
    } finally {
      plays();
    }
  }

  /**
   * The playable phase (`video.uploaded`): read the source, plan, encode and publish the
   * renditions that make it watchable soonest, store a master naming only them, announce it
   * playable, then queue the ladder phase. A redelivery after the phase's output was recorded
   * (a crash before the ladder was queued) only announces and queues again.
   */
  async function runPlayablePhase(
    ev: VideoUploaded,
    signal: AbortSignal,
    work: string,
    log: Logger,
    cpu: { nice: number; plays: () => void },
  ): Promise<void> {
    const { videoId, attempt } = ev;
    const jobStarted = Date.now();
    const progress = new ProgressReporter({ bus, videoId, attempt, logger });
    progress.report("probing", 0);
    const planned = await planSource(ev, signal, work);
    const { plan, phases } = planned;
    const probedAt = Date.now();
    if (plan.encodeReason) log.debug({ reason: plan.encodeReason }, "encoding every rung");
    const first = planWith(plan, phases.playable);
    const done = await readMarker<PlayableRecord>(markerKey(videoId, "playable"), attempt);
    if (done) {
      log.info("playable phase already published; queueing the ladder phase again");
      await publishPlayable(ev, first);
    } else {
      progress.report("encoding", 2);
      const ffmpegStartedAt = Date.now();
      const { out } = await encodePhase({
        ev,
        phase: "playable",
        planned,
        names: phases.playable,
        work,
        signal,
        onProgress: (p) => progress.report("encoding", 2 + p * PLAYABLE_SHARE),
        nice: cpu.nice,
        onStarted: async (publisher) => {
          cpu.plays();
          await publishPlayable(ev, first);
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
              nice: cpu.nice,
            },
            "transcode playable",
          );
        },
      });
      await progress.flushed();
      const measured = Object.fromEntries(
        await Promise.all(phases.playable.map(async (n) => [n, await measureRendition(path.join(out, n))] as const)),
      );
      await writeMarker(markerKey(videoId, "playable"), { attempt, measured } satisfies PlayableRecord);
    }
    await bus.publish("video.transcode.ladder", ev, videoId);
  }

  /**
   * The ladder phase (`video.transcode.ladder`): encode every remaining rung at a lower CPU
   * priority; once each has a first segment, a new master names them all (players that load it
   * from then on get every quality); then images, the measured master, ready. A redelivery after
   * ready was published only publishes it again.
   */
  async function ladderPhase(ev: VideoUploaded, signal: AbortSignal, work: string, log: Logger): Promise<void> {
    const { videoId, attempt } = ev;
    const recorded = await readMarker<{ attempt: number; ready: TranscodeReady }>(markerKey(videoId, "ready"), attempt);
    if (recorded) {
      await bus.publish("video.transcode.ready", recorded.ready, videoId);
      return;
    }
    const playable = await readMarker<PlayableRecord>(markerKey(videoId, "playable"), attempt);
    // The playable phase's record is written before the ladder is queued; without it (output
    // removed meanwhile) the job cannot be finished from here: it fails and is retried.
    if (!playable) throw new Error("the playable phase's record is missing");
    const progress = new ProgressReporter({ bus, videoId, attempt, logger });
    const planned = await planSource(ev, signal, work);
    const { plan, phases, bin, source } = planned;
    const imagePlan = planImages(plan, work);
    progress.report("encoding", 2 + 100 * PLAYABLE_SHARE);
    const { out } = await encodePhase({
      ev,
      phase: "ladder",
      planned,
      names: phases.ladder,
      work,
      signal,
      onProgress: (p) => progress.report("encoding", 2 + 100 * PLAYABLE_SHARE + p * (0.88 - PLAYABLE_SHARE)),
      nice: LADDER_NICE,
      extraOutputs: imageOutputs(imagePlan),
      onStarted: async () => {
        if (phases.ladder.length === 0) return;
        await publishPlayable(ev, plan);
        log.info({ renditions: plan.ladder.length }, "every rung published");
      },
    });
    progress.report("images", 90);
    const images = await publishImages({
      storage,
      videoId,
      ffmpeg: bin.ffmpeg,
      source: source.file,
      plan,
      images: imagePlan,
      signal,
      nice: LADDER_NICE,
    });
    progress.report("finalizing", 95);
    await progress.flushed();
    const measured = { ...playable.measured };
    for (const n of phases.ladder) measured[n] = await measureRendition(path.join(out, n));
    const master = writeMasterPlaylist({
      variants: plan.variants.map((v, i) => ({
        ...v,
        video: measured[plan.ladder[i]?.name ?? ""] ?? { segments: [] },
      })),
      audio: plan.audio ? { uri: plan.audio.uri, ...(measured.audio ?? { segments: [] }) } : null,
    });
    await storage.put(keys.master(videoId), master.text);
    // A redelivery rewrote the same keys; clear what an earlier, different ladder left behind.
    const names = new Set(plan.renditions.map((r) => r.name));
    const prefix = keys.hlsPrefix(videoId);
    for (const o of await storage.list(prefix)) {
      const dir = o.key.slice(prefix.length).split("/");
      if (dir.length > 1 && !names.has(dir[0] ?? "")) await storage.delete(o.key);
    }
    // The source's own chapters (MP4/Matroska metadata); the catalog keeps an owner's instead.
    const chapters = await probeChapters(bin.ffprobe, source.file, signal);
    const ready: TranscodeReady = {
      ...readyMessage(plan, { ...outputRef(ev), rates: master.rates, images }),
      ...(chapters.length > 0 && { chapters }),
    };
    await writeMarker(markerKey(videoId, "ready"), { attempt, ready });
    await bus.publish("video.transcode.ready", ready, videoId);
  }

  function markerKey(videoId: string, phase: "playable" | "ready"): string {
    return `${keys.hlsPrefix(videoId)}${phase}.json`;
  }

  /** A phase's record, when one of this attempt is stored. */
  async function readMarker<T extends { attempt: number }>(key: string, attempt: number): Promise<T | null> {
    if (!(await storage.stat(key))) return null;
    const chunks: Buffer[] = [];
    for await (const c of await storage.get(key)) chunks.push(Buffer.from(c));
    try {
      const value = JSON.parse(Buffer.concat(chunks).toString("utf8")) as T;
      return value.attempt === attempt ? value : null;
    } catch {
      return null;
    }
  }

  async function writeMarker<T extends { attempt: number }>(key: string, value: T): Promise<void> {
    await storage.put(key, JSON.stringify(value));
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
  async function handle(phase: "playable" | "ladder", ev: VideoUploaded, ctx: DeliveryContext): Promise<void> {
    const work = await fs.mkdtemp(path.join(workRoot, `${WORK_DIR_PREFIX}${process.pid}-`));
    const log = logger.child({ videoId: ev.videoId, attempt: ev.attempt, delivery: ctx.deliveryAttempt, phase });
    try {
      const started = Date.now();
      log.info("transcode started");
      await (phase === "playable" ? playablePhase : ladderPhase)(ev, ctx.signal, work, log);
      log.info({ ms: Date.now() - started, phase }, phase === "playable" ? "playable phase done" : "transcode ready");
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
    if (message.topic !== "video.uploaded" && message.topic !== "video.transcode.ladder") return;
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
      const slots = phaseSlots(config.transcodeConcurrency, os.availableParallelism());
      await bus.subscribe(
        CONSUMER_GROUP,
        {
          "video.uploaded": (ev, ctx) => handle("playable", ev, ctx),
          "video.transcode.ladder": (ev, ctx) => handle("ladder", ev, ctx),
        },
        {
          concurrency: slots.total,
          schedule: {
            phases: ["video.uploaded", "video.transcode.ladder"],
            shares: config.transcodeShares,
            slots: { "video.uploaded": slots.playable, "video.transcode.ladder": slots.ladder },
            reserve: { "video.uploaded": slots.reserve },
          },
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
