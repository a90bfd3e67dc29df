import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Config } from "@reelkit/core";

/**
 * The one secret that signs sessions, tokens and media URLs: `REELKIT_SECRET`, else (embedded
 * default, never in production: loadConfig refuses that) one generated once and kept in
 * `<dataDir>/secret`, so `npm start` needs no setup and sessions survive a restart.
 */
export async function resolveSecret(config: Pick<Config, "secret" | "dataDir">): Promise<string> {
  if (config.secret) return config.secret;
  const file = path.join(config.dataDir, "secret");
  const existing = await fs.readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return null;
    throw err;
  });
  if (existing?.trim()) return existing.trim();
  await fs.mkdir(config.dataDir, { recursive: true });
  const secret = randomBytes(48).toString("base64url");
  try {
    // `wx`: two processes starting at once keep whichever secret was written first.
    await fs.writeFile(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return (await fs.readFile(file, "utf8")).trim();
  }
}
