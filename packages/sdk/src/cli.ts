/**
 * `reelkit upload <file> --title … [--description …] [--server URL] [--token T] [--wait]`
 * `reelkit keys create --name N [--scope full|upload] [--max-unfinished N] [--per-minute N]`,
 * `reelkit keys list`, `reelkit keys revoke <id>`: with a session token (`--token`), or signing in
 * with `--email` and `--password` (REELKIT_EMAIL, REELKIT_PASSWORD).
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

const USAGE = [
  "usage: reelkit upload <file> [--title T] [--description D] [--server URL] [--token T] [--wait]",
  "       reelkit keys create --name N [--scope full|upload] [--max-unfinished N] [--per-minute N]",
  "       reelkit keys list | reelkit keys revoke <id>",
  "         keys commands sign in with --token <session token> or --email E --password P",
].join("\n");

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
      name: { type: "string" },
      scope: { type: "string" },
      "max-unfinished": { type: "string" },
      "per-minute": { type: "string" },
      email: { type: "string" },
      password: { type: "string" },
    },
  });
  const [command, file] = positionals;
  const baseUrl = (values.server ?? io.env.REELKIT_URL ?? "http://localhost:3000").replace(/\/+$/, "");
  if (!values.help && command === "keys") {
    return runKeys({ action: positionals[1], id: positionals[2], values, baseUrl, io });
  }
  if (values.help || command !== "upload" || !file) {
    io.err(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const token = values.token ?? io.env.REELKIT_TOKEN;
  const client = createReelkitClient({ baseUrl, getToken: () => token });
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

interface KeysInput {
  action: string | undefined;
  id: string | undefined;
  values: Record<string, string | boolean | undefined>;
  baseUrl: string;
  io: CliIo;
}

/** `reelkit keys …`: API keys are made with a signed-in session (a key cannot make keys). */
async function runKeys({ action, id, values, baseUrl, io }: KeysInput): Promise<number> {
  const str = (v: string | boolean | undefined) => (typeof v === "string" ? v : undefined);
  const int = (flag: string): number | undefined => {
    const raw = str(values[flag]);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive integer`);
    return n;
  };
  try {
    if (action === "create" && !str(values.name)) throw new UsageError("keys create needs --name");
    if (action === "revoke" && !id) throw new UsageError("keys revoke needs the key's id");
    if (action !== "create" && action !== "list" && action !== "revoke") throw new UsageError("unknown keys command");
    const scope = str(values.scope);
    if (scope !== undefined && scope !== "full" && scope !== "upload")
      throw new UsageError("--scope is full or upload");
    const body = {
      name: str(values.name),
      scope,
      maxUnfinishedUploads: int("max-unfinished"),
      uploadsPerMinute: int("per-minute"),
    };
    const session = await sessionToken(baseUrl, {
      token: str(values.token) ?? io.env.REELKIT_TOKEN,
      email: str(values.email) ?? io.env.REELKIT_EMAIL,
      password: str(values.password) ?? io.env.REELKIT_PASSWORD,
    });
    const call = async (method: string, path: string, payload?: unknown) => {
      const headers: Record<string, string> = { authorization: `Bearer ${session}` };
      if (payload !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: payload === undefined ? undefined : JSON.stringify(payload),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(errorText(res.status, text));
      return text ? JSON.parse(text) : null;
    };
    if (action === "create") {
      const created = (await call("POST", "/api/api-keys", body)) as { id: string; key: string; scope: string };
      io.out(`${created.key}\n`);
      io.err(`id ${created.id}, scope ${created.scope}: the key is shown this once; keep it on your backend\n`);
    } else if (action === "list") {
      const { items } = (await call("GET", "/api/api-keys")) as {
        items: { id: string; name: string; prefix: string; scope: string; revokedAt: string | null }[];
      };
      for (const k of items) {
        io.out(`${k.id}  ${k.prefix}…  ${k.scope.padEnd(6)}  ${k.revokedAt ? "revoked" : "active "}  ${k.name}\n`);
      }
    } else {
      await call("DELETE", `/api/api-keys/${encodeURIComponent(id as string)}`);
      io.out(`revoked ${id}\n`);
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n${USAGE}\n`);
      return 2;
    }
    io.err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

class UsageError extends Error {}

/** A session token: the one given, or a new session from signing in with email and password. */
async function sessionToken(
  baseUrl: string,
  auth: { token?: string; email?: string; password?: string },
): Promise<string> {
  if (auth.token) return auth.token;
  if (!auth.email || !auth.password) {
    throw new UsageError("keys commands need --token <session token>, or --email and --password");
  }
  const res = await fetch(`${baseUrl}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: new URL(baseUrl).origin },
    body: JSON.stringify({ email: auth.email, password: auth.password }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`signing in failed: ${errorText(res.status, text)}`);
  const token = res.headers.get("set-auth-token");
  if (!token) throw new Error("signing in failed: the server sent no set-auth-token header");
  return token;
}

function errorText(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string }; message?: string };
    if (body.error?.message) return `${body.error.message} (${body.error.code ?? status})`;
    if (body.message) return `${body.message} (${status})`;
  } catch {
    // not JSON
  }
  return `HTTP ${status}`;
}
