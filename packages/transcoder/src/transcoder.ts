import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  type Bus,
  type Config,
  keys,
  type Logger,
  type Rendition,
  type Storage,
  type TranscodeFailed,
  type VideoUploaded,
} from "@reelkit/core";
import { buildHlsArgs, h264Codec } from "./ffmpeg-args.js";
import { FfmpegError, runFfmpeg } from "./ffmpeg-runner.js";
import { planStoryboard, posterArgs, storyboardArgs, storyboardVtt } from "./images.js";
import { displaySize, planLadder } from "./ladder.js";
import { type MeasuredStream, parseMediaPlaylist, writeMasterPlaylist } from "./playlist.js";
import { ProbeError, probeFile, resolveBinaries, withoutPaths } from "./probe.js";

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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, owned by someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
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
    if (!m || pid === process.pid || isAlive(pid)) continue;
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

async function listFiles(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(root, r)));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/**
 * The bus consumer: `video.uploaded` in, HLS ladder + images in storage, progress/ready/failed
 * out. Never touches the catalog. Same video id -> same keys, so a redelivery overwrites.
 */
export function createTranscoder(deps: TranscoderDeps): Transcoder {
  const { config, storage, bus, logger } = deps;
  const workRoot = deps.workRoot ?? os.tmpdir();
  const running = new Set<AbortController>();
  const waiters: (() => void)[] = [];
  let active = 0;
  let stopped = false;

  async function acquire(): Promise<void> {
    if (active < Math.max(1, config.transcodeConcurrency)) {
      active++;
      return;
    }
    await new Promise<void>((resolve) => waiters.push(resolve));
  }
  function release(): void {
    const next = waiters.shift();
    if (next) next();
    else active--;
  }

  async function transcode(ev: VideoUploaded, signal: AbortSignal, work: string): Promise<void> {
    const { videoId, attempt } = ev;
    let lastSent = -1;
    const progress = async (stage: "probing" | "encoding" | "images" | "finalizing", percent: number) => {
      const p = Math.floor(percent);
      if (p === lastSent) return;
      lastSent = p;
      await bus.publish("video.transcode.progress", { videoId, attempt, percent: p, stage }, videoId);
    };
    await progress("probing", 0);
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
    const probe = await probeFile(bin.ffprobe, source, signal);
    const ladder = planLadder(probe, config.rungs);
    const out = path.join(work, "hls");
    for (const dir of [...ladder.map((r) => r.name), "audio"]) await fs.mkdir(path.join(out, dir), { recursive: true });
    await progress("encoding", 2);
    let pending = Promise.resolve();
    await runFfmpeg({
      ffmpeg: bin.ffmpeg,
      args: buildHlsArgs({ input: source, outDir: out, ladder, frameRate: probe.frameRate, hasAudio: probe.hasAudio }),
      durationSec: probe.durationSec,
      signal,
      onProgress: (p) => {
        pending = pending.then(() => progress("encoding", 2 + p * 0.88)).catch(() => {});
      },
    }).catch((err) => {
      if (err instanceof FfmpegError) {
        const failure = new JobFailure("UNDECODABLE", `The video could not be decoded (${withoutPaths(err.message)}).`);
        failure.cause = err; // the log keeps ffmpeg's own words
        throw failure;
      }
      throw err;
    });
    await pending;

    await progress("images", 90);
    const display = displaySize(probe);
    const plan = planStoryboard({ durationSec: probe.durationSec, ...display });
    const poster = path.join(work, "poster.jpg");
    const sprite = path.join(work, "storyboard.jpg");
    await runFfmpeg({
      ffmpeg: bin.ffmpeg,
      args: posterArgs({ input: source, output: poster, atSec: Math.min(1, probe.durationSec / 3) }),
      signal,
    });
    await runFfmpeg({ ffmpeg: bin.ffmpeg, args: storyboardArgs({ input: source, output: sprite, plan }), signal });

    await progress("finalizing", 95);
    const audio = probe.hasAudio ? { uri: "audio/index.m3u8", ...(await measure(path.join(out, "audio"))) } : null;
    const variants = await Promise.all(
      ladder.map(async (r) => ({
        uri: `${r.name}/index.m3u8`,
        width: r.width,
        height: r.height,
        codecs: h264Codec(r.width, r.height, probe.frameRate),
        frameRate: probe.frameRate,
        video: await measure(path.join(out, r.name)),
      })),
    );
    const master = writeMasterPlaylist({ variants, audio });
    if (!probe.hasAudio) await fs.rm(path.join(out, "audio"), { recursive: true, force: true });

    // A redelivery or retry rewrites the same keys; clear leftovers of a longer earlier output.
    const hls = keys.hlsPrefix(videoId);
    await storage.deletePrefix(hls);
    for (const rel of await listFiles(out)) await storage.putFile(`${hls}${rel}`, path.join(out, rel));
    await storage.putFile(keys.poster(videoId), poster);
    await storage.putFile(keys.storyboard(videoId), sprite);
    await storage.put(keys.storyboardVtt(videoId), storyboardVtt(plan, probe.durationSec));
    await storage.put(keys.master(videoId), master.text);

    const renditions: Rendition[] = variants.map((v, i) => ({
      name: ladder[i]?.name ?? v.uri,
      width: v.width,
      height: v.height,
      bandwidth: master.rates[i]?.peak ?? 0,
      averageBandwidth: master.rates[i]?.average ?? 0,
      codecs: probe.hasAudio ? `${v.codecs},mp4a.40.2` : v.codecs,
      frameRate: v.frameRate,
      playlistKey: `${hls}${v.uri}`,
    }));
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
        renditions,
        masterKey: keys.master(videoId),
        posterKey: keys.poster(videoId),
        storyboardKey: keys.storyboard(videoId),
        storyboardVttKey: keys.storyboardVtt(videoId),
      },
      videoId,
    );
  }

  async function handle(ev: VideoUploaded): Promise<void> {
    if (stopped) return;
    await acquire();
    const ctrl = new AbortController();
    running.add(ctrl);
    const work = await fs.mkdtemp(path.join(workRoot, `${WORK_DIR_PREFIX}${process.pid}-`));
    const log = logger.child({ videoId: ev.videoId, attempt: ev.attempt });
    try {
      const started = Date.now();
      await transcode(ev, ctrl.signal, work);
      log.info({ ms: Date.now() - started }, "transcode ready");
    } catch (err) {
      if (ctrl.signal.aborted) {
        log.warn("transcode aborted by stop()");
        return;
      }
      const failure =
        err instanceof JobFailure || err instanceof ProbeError
          ? { code: err.code, reason: err.message }
          : { code: "TRANSCODE_ERROR" as const, reason: "The video could not be processed." };
      log.warn({ err, code: failure.code }, "transcode failed");
      try {
        await bus.publish(
          "video.transcode.failed",
          { videoId: ev.videoId, attempt: ev.attempt, ...failure },
          ev.videoId,
        );
      } catch (pubErr) {
        log.error({ err: pubErr }, "could not publish video.transcode.failed");
      }
    } finally {
      running.delete(ctrl);
      await fs.rm(work, { recursive: true, force: true });
      release();
    }
  }

  return {
    async start() {
      stopped = false;
      await removeStaleWorkDirs(workRoot, logger);
      await bus.subscribe(CONSUMER_GROUP, { "video.uploaded": handle });
    },
    async stop() {
      stopped = true;
      for (const c of running) c.abort();
    },
  };
}
