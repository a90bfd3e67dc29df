/**
 * `reelkit upload <file> --title … [--description …] [--server URL] [--token T] [--wait]`
 * Env: REELKIT_URL (default http://localhost:3000), REELKIT_TOKEN.
 */
import { parseArgs } from "node:util";
import { createReelkitClient } from "./client.js";
import { uploadVideo } from "./upload.js";
import { watchVideo } from "./watch.js";

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  isTTY?: boolean;
}

const USAGE = "usage: reelkit upload <file> [--title T] [--description D] [--server URL] [--token T] [--wait]";

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      title: { type: "string" },
      description: { type: "string" },
      server: { type: "string" },
      token: { type: "string" },
      wait: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, file] = positionals;
  if (values.help || command !== "upload" || !file) {
    io.err(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const token = values.token ?? io.env.REELKIT_TOKEN;
  const client = createReelkitClient({
    baseUrl: values.server ?? io.env.REELKIT_URL ?? "http://localhost:3000",
    getToken: () => token,
  });
  try {
    const handle = uploadVideo(client, file, {
      title: values.title ?? file.split(/[\\/]/).pop(),
      description: values.description,
      onProgress: (p) => io.out(progressLine(p.percent, p.speedBps, p.etaSeconds, io.isTTY ?? false)),
    });
    const { videoId } = await handle.done;
    io.out(`${io.isTTY ? "\n" : ""}uploaded: ${videoId}\n`);
    if (values.wait) {
      const final = await watchVideo(client, videoId, (e) => io.out(`${e.status} ${Math.round(e.progress)}%\n`)).done;
      if (final.status === "FAILED") {
        io.err(`failed: ${final.failureReason ?? "unknown reason"}\n`);
        return 1;
      }
    }
    return 0;
  } catch (error) {
    io.err(`${io.isTTY ? "\n" : ""}error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** A 30-column bar redrawn in place on a terminal; one line per update otherwise. */
export function progressLine(percent: number, speedBps: number, etaSeconds: number | null, tty: boolean): string {
  const width = 30;
  const filled = Math.round((percent / 100) * width);
  const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
  const speed = speedBps > 0 ? `${(speedBps / 1024 / 1024).toFixed(1)} MiB/s` : "-- MiB/s";
  const eta = etaSeconds === null ? "--" : `${Math.ceil(etaSeconds)}s`;
  const text = `${bar} ${percent.toFixed(1).padStart(5)}% ${speed} ETA ${eta}`;
  return tty ? `\r${text}` : `${text}\n`;
}
