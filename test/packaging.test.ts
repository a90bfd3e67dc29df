/**
 * Packaging proof for what third-party sites install: @reelkit/sdk and @reelkit/react.
 *
 * 1. `npm pack --dry-run` holds only built files, declarations, README and package.json, and
 *    every `exports`/`main`/`types`/`bin` target is in it.
 * 2. On each supported Node major (24 and 22, the project's own builds from scripts/node.sh),
 *    both tarballs are installed into a scratch project outside the monorepo (their dependencies
 *    come from the registry, so nothing of the workspace leaks in) with no engine warning, and
 *    imported by their published names from separate `node` processes, as ESM and as CJS; the
 *    build must export exactly what the sources export, render <VideoPlayer> on the server, and
 *    talk HTTP.
 * 3. A TypeScript consumer (module nodenext) type-checks against the shipped declarations.
 *
 * The test does not build: `npm run build` takes ~30 s and other suites may read dist/
 * concurrently. CI builds before testing; here a missing or stale dist/ fails with the command.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
// The changesets CLI's own config reader and workspace finder, resolved from the CLI (the root's
// devDependency) so that hoisting cannot change which copy is used.
const fromChangesets = createRequire(createRequire(import.meta.url).resolve("@changesets/cli/package.json"));
const { read: readChangesetConfig } = fromChangesets("@changesets/config") as typeof import("@changesets/config");
const { getPackages } = fromChangesets("@manypkg/get-packages") as typeof import("@manypkg/get-packages");
const root = fileURLToPath(new URL("..", import.meta.url));

interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  main?: string;
  module?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: unknown;
  sideEffects?: boolean | string[];
  publishConfig?: { access?: string };
  files?: string[];
}

const PUBLIC = [
  { name: "@reelkit/sdk", dir: path.join(root, "packages/sdk") },
  { name: "@reelkit/react", dir: path.join(root, "packages/react") },
] as const;

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;
const manifest = (dir: string) => readJson<PackageJson>(path.join(dir, "package.json"));

function newestSource(dir: string): { file: string; mtime: number } {
  let newest = { file: "", mtime: 0 };
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      // Tests and stories are not part of the build.
      else if (!/\.(test|stories)\.tsx?$/.test(entry.name)) {
        const mtime = statSync(full).mtimeMs;
        if (mtime > newest.mtime) newest = { file: full, mtime };
      }
    }
  };
  walk(path.join(dir, "src"));
  for (const f of ["tsup.config.ts"]) {
    const mtime = statSync(path.join(dir, f)).mtimeMs;
    if (mtime > newest.mtime) newest = { file: path.join(dir, f), mtime };
  }
  return newest;
}

/** Why dist/ cannot be tested (missing or older than a source file), with the command to run; null when fine. */
function buildProblem(): Error | null {
  try {
    for (const p of PUBLIC) assertBuilt(p.dir);
    return null;
  } catch (e) {
    return e as Error;
  }
}

function assertBuilt(dir: string) {
  const entries = ["dist/index.js", "dist/index.cjs", "dist/index.d.ts", "dist/index.d.cts"].map((f) =>
    path.join(dir, f),
  );
  const missing = entries.filter((f) => !existsSync(f));
  const rel = path.relative(root, dir);
  if (missing.length)
    throw new Error(
      `${rel} is not built (${missing.map((f) => path.relative(root, f)).join(", ")} missing): run \`npm run build\` first`,
    );
  const built = Math.min(...entries.map((f) => statSync(f).mtimeMs));
  const newest = newestSource(dir);
  if (newest.mtime > built)
    throw new Error(
      `${rel}/dist is older than ${path.relative(root, newest.file)}: run \`npm run build\` first (CI builds before testing)`,
    );
}

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run("npm", args, {
    cwd,
    maxBuffer: 32 * 1024 * 1024,
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
  return stdout;
}

/** Every path named by `exports` (all conditions), `main`, `module`, `types` and `bin`. */
function declaredTargets(pkg: PackageJson): string[] {
  const out = new Set<string>();
  const walk = (node: unknown) => {
    if (typeof node === "string") out.add(node.replace(/^\.\//, ""));
    else if (node && typeof node === "object") for (const v of Object.values(node)) walk(v);
  };
  walk(pkg.exports);
  walk([pkg.main, pkg.module, pkg.types]);
  walk(pkg.bin);
  return [...out].sort();
}

const ALLOWED =
  /^(package\.json|README\.md|LICENSE(\.md|\.txt)?|dist\/[\w.-]+\.(js|cjs|d\.ts|d\.cts|js\.map|cjs\.map|css))$/;

// Every test that reads dist/ fails (not skips) with the reason when the build is missing or stale.
const built = () => {
  const problem = buildProblem();
  if (problem) throw problem;
};

describe("npm pack contents", () => {
  for (const p of PUBLIC) {
    it(`${p.name}: only built files, declarations, README and package.json; every declared target is packed`, async () => {
      built();
      const [report] = JSON.parse(await npm(["pack", "--dry-run", "--json"], p.dir)) as [
        { name: string; files: { path: string }[] },
      ];
      const files = report.files.map((f) => f.path).sort();
      expect(report.name).toBe(p.name);
      expect(files.filter((f) => !ALLOWED.test(f))).toEqual([]);
      expect(files).toContain("README.md");
      expect(files).toContain("package.json");
      expect(files).toContain("dist/index.d.ts");
      expect(files).toContain("dist/index.d.cts");
      const pkg = manifest(p.dir);
      const targets = declaredTargets(pkg);
      expect(targets.length).toBeGreaterThan(3);
      expect(targets.filter((t) => !files.includes(t))).toEqual([]);
      expect(pkg.publishConfig?.access).toBe("public");
    });
  }

  it("the sdk is side-effect free; the react package lists its stylesheet as a side effect", () => {
    expect(manifest(PUBLIC[0].dir).sideEffects).toBe(false);
    const react = manifest(PUBLIC[1].dir);
    const patterns = react.sideEffects;
    expect(Array.isArray(patterns)).toBe(true);
    // Bundlers match sideEffects globs against the resolved file; the stylesheet must match,
    // or `import "@reelkit/react/styles.css"` is dropped from production builds.
    expect((patterns as string[]).some((g) => path.matchesGlob("dist/styles.css", g.replace(/^\.\//, "")))).toBe(true);
    expect((patterns as string[]).some((g) => path.matchesGlob("dist/index.js", g.replace(/^\.\//, "")))).toBe(false);
    expect(declaredTargets(react)).toContain("dist/styles.css");
  });
});

describe("changesets", () => {
  it("versions every publishable workspace, ignores the private demo, and links sdk with react", async () => {
    const packages = await getPackages(root);
    // read() is what the changesets CLI runs first: it validates the config against the workspaces.
    const config = await readChangesetConfig(root, packages);
    const publishable = packages.packages.filter((p) => !p.packageJson.private).map((p) => p.packageJson.name);
    const privateOnes = packages.packages.filter((p) => p.packageJson.private).map((p) => p.packageJson.name);
    expect(publishable.sort()).toEqual([
      "@reelkit/core",
      "@reelkit/react",
      "@reelkit/sdk",
      "@reelkit/server",
      "@reelkit/transcoder",
    ]);
    expect(config.ignore.filter((name) => publishable.includes(name))).toEqual([]);
    expect(privateOnes).toEqual(["@reelkit/demo"]);
    expect(config.ignore).toContain("@reelkit/demo");
    expect(config.access).toBe("public");
    expect(config.linked.some((group) => group.includes("@reelkit/sdk") && group.includes("@reelkit/react"))).toBe(
      true,
    );
  });
});

/** The catalog route the scratch project's client calls. */
function catalogServer() {
  const requests: string[] = [];
  const video = { id: "00000000-0000-4000-8000-000000000001", title: "Packed", status: "READY" };
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url?.startsWith("/api/videos")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ items: [video], nextCursor: null }));
    } else {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "NOT_FOUND", message: "no" } }));
    }
  });
  return { server, requests, video };
}

/** Body shared by the ESM and CJS checks: everything it reports is asserted by the test. */
const CHECK_BODY = `
const html = renderToString(
  createElement(react.VideoPlayer, {
    src: "https://cdn.test/master.m3u8",
    poster: "https://cdn.test/p.jpg",
    storyboard: "https://cdn.test/sb.vtt",
    captions: [{ src: "https://cdn.test/en.vtt", srclang: "en", label: "English", default: true }],
  }),
);
const client = sdk.createReelkitClient({ baseUrl: process.env.REELKIT_URL });
const list = await client.list({ limit: 5 });
const cues = sdk.parseStoryboardVtt("WEBVTT\\n\\n00:00.000 --> 00:02.000\\nsb.jpg#xywh=160,0,160,90\\n", "https://cdn.test/v/sb.vtt");
process.stdout.write(JSON.stringify({
  node: process.version,
  resolved: { sdk: resolve("@reelkit/sdk"), contract: resolve("@reelkit/sdk/contract"), react: resolve("@reelkit/react"), styles: resolve("@reelkit/react/styles.css") },
  exports: { sdk: Object.keys(sdk).sort(), contract: Object.keys(contract).sort(), react: Object.keys(react).sort() },
  globals: { window: typeof globalThis.window, document: typeof globalThis.document },
  html,
  list,
  cues,
}));
`;

const ESM_CHECK = `
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import * as sdk from "@reelkit/sdk";
import * as contract from "@reelkit/sdk/contract";
import * as react from "@reelkit/react";
import { fileURLToPath } from "node:url";
const resolve = (id) => fileURLToPath(import.meta.resolve(id));
${CHECK_BODY}
`;

const CJS_CHECK = `
const { createElement } = require("react");
const { renderToString } = require("react-dom/server");
const sdk = require("@reelkit/sdk");
const contract = require("@reelkit/sdk/contract");
const react = require("@reelkit/react");
const resolve = (id) => require.resolve(id);
(async () => {
${CHECK_BODY}
})().catch((e) => { console.error(e); process.exit(1); });
`;

// A consumer's TypeScript, resolved the way Node resolves it (import and require conditions).
const TYPES_CHECK = `
import { createReelkitClient, parseStoryboardVtt, type StoryboardCue, type Video } from "@reelkit/sdk";
import { Video as VideoSchema } from "@reelkit/sdk/contract";
import { VideoPlayer, type VideoPlayerProps, ReelkitProvider, Uploader } from "@reelkit/react";
const client = createReelkitClient({ baseUrl: "https://video.example" });
export const one: Promise<Video> = client.get("id");
export const cues: StoryboardCue[] = parseStoryboardVtt("WEBVTT", "https://x/sb.vtt");
export const props: VideoPlayerProps = {
  src: "https://x/master.m3u8",
  storyboard: "https://x/sb.vtt",
  captions: [{ src: "https://x/en.vtt", srclang: "en", label: "English", default: true }],
};
export const parts = [VideoPlayer, ReelkitProvider, Uploader, VideoSchema.$id];
// @ts-expect-error: a prop the player does not have must not type-check.
export const wrong: VideoPlayerProps = { source: "x" };
`;

/** The Node majors Reelkit supports; CI runs on both (scripts/node.sh brings each). */
const NODE_MAJORS = ["24", "22"] as const;

/** The bin directory of the project's own Node build of that major (fetched when missing). */
async function nodeBin(major: string): Promise<string> {
  const { stdout } = await run(path.join(root, "scripts/node.sh"), [major, "--path"], { cwd: root });
  return stdout.trim();
}

type CheckOutput = {
  node: string;
  resolved: Record<"sdk" | "contract" | "react" | "styles", string>;
  exports: Record<"sdk" | "contract" | "react", string[]>;
  globals: Record<string, string>;
  html: string;
  list: { items: { id: string }[]; nextCursor: string | null };
  cues: unknown[];
};

// What the sources export is what the build must export (the vitest aliases point at src).
const sourceExports = async () => ({
  sdk: Object.keys(await import("@reelkit/sdk")).sort(),
  contract: Object.keys(await import("@reelkit/sdk/contract")).sort(),
  react: Object.keys(await import("@reelkit/react")).sort(),
});

let tarballDir = "";
let catalog: ReturnType<typeof catalogServer>;
let baseUrl = "";

beforeAll(async () => {
  if (buildProblem()) return;
  tarballDir = await mkdtemp(path.join(tmpdir(), "reelkit-tarballs-"));
  for (const p of PUBLIC) await npm(["pack", "--json", "--pack-destination", tarballDir], p.dir);
  catalog = catalogServer();
  await new Promise<void>((resolve) => catalog.server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(catalog.server.address() as AddressInfo).port}`;
}, 180_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (catalog?.server as Server | undefined)?.close(() => resolve()) ?? resolve());
  if (tarballDir) await rm(tarballDir, { recursive: true, force: true });
});

describe.each(NODE_MAJORS)("installed from the tarballs into a scratch project, on Node %s", (major) => {
  let scratch = "";
  let node = "";
  let installLog = "";

  beforeAll(async () => {
    if (buildProblem()) return;
    const bin = await nodeBin(major);
    node = path.join(bin, "node");
    scratch = await mkdtemp(path.join(tmpdir(), `reelkit-pack-node${major}-`));
    const tarballs = readdirSync(tarballDir)
      .filter((f) => f.endsWith(".tgz"))
      .map((f) => path.join(tarballDir, f));
    // The host app's React, at the version the workspace tests with.
    const version = (name: string) =>
      readJson<{ version: string }>(path.join(root, "node_modules", name, "package.json")).version;
    await writeFile(path.join(scratch, "package.json"), JSON.stringify({ name: "reelkit-scratch", private: true }));
    // npm itself runs on this Node (its `#!/usr/bin/env node` finds this bin first), so engine
    // checks and install scripts see the version the site runs.
    const { stderr } = await run(
      "npm",
      [
        "install",
        ...tarballs,
        `react@${version("react")}`,
        `react-dom@${version("react-dom")}`,
        `@types/react@${version("@types/react")}`,
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--no-package-lock",
      ],
      {
        cwd: scratch,
        maxBuffer: 32 * 1024 * 1024,
        env: {
          ...process.env,
          PATH: `${bin}${path.delimiter}${process.env.PATH}`,
          npm_config_update_notifier: "false",
        },
      },
    );
    installLog = stderr;
    await writeFile(path.join(scratch, "check.mjs"), ESM_CHECK);
    await writeFile(path.join(scratch, "check.cjs"), CJS_CHECK);
  }, 180_000);

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const check = async (script: string) => {
    const { stdout } = await run(node, [script], {
      cwd: scratch,
      env: { ...process.env, REELKIT_URL: baseUrl },
    });
    return JSON.parse(stdout) as CheckOutput;
  };

  it("installs with no engine warning: every dependency of the published packages supports this Node", () => {
    built();
    expect(installLog).not.toMatch(/EBADENGINE/);
  });

  for (const [kind, script, entry] of [
    ["ESM import", "check.mjs", /node_modules\/@reelkit\/(sdk|react)\/dist\/(index|contract)\.js$/],
    ["CJS require", "check.cjs", /node_modules\/@reelkit\/(sdk|react)\/dist\/(index|contract)\.cjs$/],
  ] as const) {
    it(`${kind}: published names resolve to the built files; exports match the sources; SSR render; HTTP client`, async () => {
      built();
      const before = catalog.requests.length;
      const out = await check(script);
      expect(out.node).toMatch(new RegExp(`^v${major}\\.`));
      for (const key of ["sdk", "contract", "react"] as const) {
        expect(out.resolved[key].startsWith(realpathSync(scratch))).toBe(true);
        expect(out.resolved[key]).toMatch(entry);
      }
      expect(out.resolved.styles).toMatch(/node_modules\/@reelkit\/react\/dist\/styles\.css$/);
      expect(out.exports).toEqual(await sourceExports());
      for (const name of [
        "createReelkitClient",
        "uploadVideo",
        "watchVideo",
        "attachPlayer",
        "parseStoryboardVtt",
        "loadStoryboard",
      ])
        expect(out.exports.sdk).toContain(name);
      for (const name of ["VideoPlayer", "Uploader", "ReelkitProvider", "useVideo", "useVideos", "useUpload"])
        expect(out.exports.react).toContain(name);
      expect(out.globals).toEqual({ window: "undefined", document: "undefined" });
      expect(out.html).toContain('class="rk-player"');
      expect(out.html).toContain('poster="https://cdn.test/p.jpg"');
      expect(out.html).toContain('aria-label="Seek"');
      expect(out.html).toMatch(
        /<track kind="captions" src="https:\/\/cdn.test\/en.vtt" srcLang="en" label="English" default=""\/>/,
      );
      expect(out.list).toEqual({ items: [catalog.video], nextCursor: null });
      expect(catalog.requests.slice(before)).toEqual(["GET /api/videos?limit=5"]);
      expect(out.cues).toEqual([
        { start: 0, end: 2, url: "https://cdn.test/v/sb.jpg", region: { x: 160, y: 0, width: 160, height: 90 } },
      ]);
    });
  }

  it("type-checks a TypeScript consumer against the shipped declarations (nodenext, ESM and CJS)", async () => {
    built();
    await writeFile(path.join(scratch, "consumer.mts"), TYPES_CHECK);
    await writeFile(path.join(scratch, "consumer.cts"), TYPES_CHECK);
    await writeFile(
      path.join(scratch, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          lib: ["es2022", "dom"],
          jsx: "react-jsx",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ["consumer.mts", "consumer.cts"],
      }),
    );
    const tsc = path.join(root, "node_modules/typescript/bin/tsc");
    const result = await run(node, [tsc, "-p", "tsconfig.json"], { cwd: scratch }).catch((e: { stdout?: string }) => ({
      stdout: `FAILED\n${e.stdout ?? String(e)}`,
    }));
    expect(result.stdout).toBe("");
  });
});
