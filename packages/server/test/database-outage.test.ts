/**
 * An external PostgreSQL that becomes unreachable (here: the network path to it is cut, every
 * open connection dropped and new ones refused) and comes back. Meanwhile sign-in, requests with
 * a session token and tus uploads answer 503 DATABASE_UNAVAILABLE with Retry-After — never a
 * 500, and never a 401 that would make a client drop its session — and once it is back
 * everything works again with nothing lost: the half-written upload resumes and finishes.
 */
import net from "node:net";
import path from "node:path";
import { LocalStorage, loadConfig } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../../../test/engines.js";
import { buildApp } from "../src/app.js";
import { createCatalog } from "../src/catalog/catalog.js";
import { type Database, openDatabase } from "../src/db/database.js";
import { createTestDatabase, postgresMissing, type TestDatabase } from "../src/db/test-databases.js";
import { testAuth } from "./auth.js";
import { signIn, signUp, type TestUser, tusCreate } from "./factories.js";

/** A TCP path to the database that can be cut (open connections dropped, new ones refused) and restored. */
class CuttableLink {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => server?.close(resolve));
  }
}

describeWith("postgres", postgresMissing, "an external PostgreSQL that goes away and comes back", () => {
  let tdb: TestDatabase;
  let link: CuttableLink;
  let db: Database;
  let app: FastifyInstance;
  let base: string;
  let user: TestUser;
  const password = "correct horse battery staple";

  beforeAll(async () => {
    tdb = await createTestDatabase("postgres");
    const direct = new URL(tdb.url as string);
    link = new CuttableLink({ host: direct.hostname, port: Number(direct.port) });
    await link.open();
    const viaLink = new URL(direct);
    viaLink.port = String(link.port);
    db = await openDatabase({ dataDir: tdb.dataDir, databaseUrl: viaLink.toString() });
    const config = loadConfig({ REELKIT_DATA_DIR: tdb.dataDir, REELKIT_LOG_LEVEL: "silent" });
    app = await buildApp({
      config,
      storage: new LocalStorage(path.join(tdb.dataDir, "media")),
      catalog: createCatalog(db.prisma, { feed: db.changes }),
      auth: testAuth(db.prisma, config),
    });
    base = await app.listen({ port: 0, host: "127.0.0.1" });
    user = await signUp(base, { password });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await db?.close();
    await tdb?.dispose();
  });

  it("answers 503 with Retry-After while it is unreachable, and works again after", async () => {
    const created = await tusCreate(base, { auth: user.bearer, length: 8, body: "half" });
    expect(created.status).toBe(201);
    const uploadUrl = new URL(created.headers.get("location") as string, base).toString();
    const patch = () =>
      fetch(uploadUrl, {
        method: "PATCH",
        headers: {
          "Tus-Resumable": "1.0.0",
          "Upload-Offset": "4",
          "Content-Type": "application/offset+octet-stream",
          ...user.bearer,
        },
        body: "rest",
      });

    await link.cut();
    const expectUnavailable = async (res: Response, what: string) => {
      expect(res.status, what).toBe(503);
      expect(res.headers.get("retry-after"), what).toMatch(/^\d+$/);
      const body = await res.text();
      // HEAD has no body to carry the code.
      if (body) expect(JSON.parse(body).error.code, what).toBe("DATABASE_UNAVAILABLE");
    };
    const signInAgain = () =>
      fetch(`${base}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: new URL(base).origin },
        body: JSON.stringify({ email: user.email, password }),
      });
    await expectUnavailable(await signInAgain(), "sign-in");
    await expectUnavailable(await fetch(`${base}/api/videos?mine=1`, { headers: user.bearer }), "own list");
    await expectUnavailable(await fetch(`${base}/api/auth/get-session`, { headers: user.bearer }), "session");
    await expectUnavailable(
      await fetch(uploadUrl, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0", ...user.bearer } }),
      "tus HEAD",
    );
    await expectUnavailable(await patch(), "tus PATCH");
    await expectUnavailable(await tusCreate(base, { auth: user.bearer, length: 4 }), "tus creation");

    await link.open();
    // Back: the pool reconnects on its own, the session still holds, the upload resumes from its offset.
    await expect
      .poll(async () => (await fetch(`${base}/api/videos?mine=1`, { headers: user.bearer })).status, {
        timeout: 15_000,
      })
      .toBe(200);
    expect((await signIn(base, user.email, password)).id).toBe(user.id);
    const head = await fetch(uploadUrl, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0", ...user.bearer } });
    expect(head.headers.get("upload-offset")).toBe("4");
    expect((await patch()).status).toBe(204);
    const videoId = created.headers.get("reelkit-video-id") as string;
    const video = await db.prisma.video.findUniqueOrThrow({ where: { id: videoId } });
    expect(video).toMatchObject({ status: "QUEUED", ownerId: user.id });
  });
});
