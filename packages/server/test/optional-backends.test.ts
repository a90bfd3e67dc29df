import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The Kafka client and the AWS SDK (with @tus/s3-store) are loaded only when configured: the
// embedded default does not pay their memory. Each case runs in a fresh process (through tsx, on
// the sources) that records every module it resolves, and prints the optional ones it loaded.

const run = promisify(execFile);
const src = (file: string) => path.join(import.meta.dirname, "../src", file);
const core = path.join(import.meta.dirname, "../../core/src/index.ts");

/** Runs `body` (an async function body with `core`, `runtime` and `dataDir` in scope); returns the optional modules loaded. */
async function optionalModulesLoaded(body: string, dataDir: string): Promise<string[]> {
  const script = `
    import { registerHooks } from "node:module";
    const loaded = new Set();
    const OPTIONAL = /\\/node_modules\\/(@platformatic\\/kafka|@aws-sdk\\/[^/]+|@tus\\/s3-store)\\//;
    registerHooks({
      resolve(specifier, context, next) {
        const result = next(specifier, context);
        const m = OPTIONAL.exec(result.url);
        if (m) loaded.add(m[1]);
        return result;
      },
    });
    const core = await import(${JSON.stringify(core)});
    const runtime = await import(${JSON.stringify(src("index.ts"))});
    const dataDir = ${JSON.stringify(dataDir)};
    await (async () => { ${body} })();
    console.log(JSON.stringify([...loaded].sort()));
    process.exit(0);
  `;
  const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: path.join(import.meta.dirname, ".."),
    timeout: 90_000,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "null") as string[];
}

describe("optional backends are loaded on demand", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-optional-"));
  });
  afterAll(async () => {
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it("the embedded default (a whole runtime on local storage and the database's job queue) loads neither Kafka nor the AWS SDK", async () => {
    const loaded = await optionalModulesLoaded(
      `
      const config = core.loadConfig({ REELKIT_DATA_DIR: dataDir, REELKIT_LOG_LEVEL: "silent" });
      const rt = await runtime.createEmbeddedRuntime(config);
      const res = await rt.app.inject({ method: "GET", url: "/api/videos" });
      if (res.statusCode !== 200) throw new Error("GET /api/videos answered " + res.statusCode);
      await rt.close();
      `,
      dataDir,
    );
    expect(loaded).toEqual([]);
  });

  it("KAFKA_BROKERS and REELKIT_STORAGE=s3 load them (the factories, the server's S3 tus store)", async () => {
    const loaded = await optionalModulesLoaded(
      `
      const config = core.loadConfig({
        REELKIT_DATA_DIR: dataDir,
        KAFKA_BROKERS: "127.0.0.1:9",
        REELKIT_STORAGE: "s3",
        S3_BUCKET: "reelkit-unused",
        S3_ENDPOINT: "http://127.0.0.1:9",
      });
      const bus = await core.kafkaBusFromConfig(config);
      const storage = await core.createStorage(config);
      if (storage.localPath("videos/x/source") !== null) throw new Error("not the S3 storage");
      const uploads = await import(${JSON.stringify(src("uploads/upload-store.ts"))});
      const backend = await uploads.createUploadBackend({ config, storage });
      if (backend.tusId("v") !== "uploads/v") throw new Error("not the S3 upload store: " + backend.tusId("v"));
      await bus.close();
      `,
      dataDir,
    );
    expect(loaded).toEqual(
      expect.arrayContaining(["@aws-sdk/client-s3", "@aws-sdk/lib-storage", "@platformatic/kafka", "@tus/s3-store"]),
    );
  });
});
