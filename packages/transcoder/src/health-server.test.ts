import fs from "node:fs/promises";
import type http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createMetrics, LocalStorage, MemoryJobStore, QueueBus } from "@reelkit/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { healthServer } from "./health-server.js";

const TOKEN = "metrics-token-0123456789abcdef";
let dir: string;
let server: http.Server | undefined;
let puts = 0;

/** An address of this host that is not loopback, if it has one: requests from it are not local. */
const external = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && i.family === "IPv4" && !i.internal)?.address;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-transcoder-health-"));
  puts = 0;
});
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(null));
  server = undefined;
  await fs.rm(dir, { recursive: true, force: true });
});

async function start(metricsToken: string | null): Promise<number> {
  const storage = new LocalStorage(dir);
  const put = storage.put.bind(storage);
  storage.put = (...args: Parameters<typeof put>) => {
    puts++;
    return put(...args);
  };
  const bus = new QueueBus({ store: new MemoryJobStore() });
  server = healthServer({ bus, storage, metrics: createMetrics({ process: "reelkit-transcoder" }), metricsToken });
  const s = server;
  await new Promise<void>((resolve) => s.listen(0, "0.0.0.0", resolve));
  return (s.address() as AddressInfo).port;
}

describe("reelkit-transcoder /readyz", () => {
  it("writes its storage probe once for calls within a few seconds", async () => {
    const port = await start(null);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ok", checks: { bus: "ok", storage: "ok" } });
    }
    expect(puts).toBe(1);
  });
});

describe("reelkit-transcoder /metrics", () => {
  it("answers loopback clients without a token", async () => {
    const port = await start(null);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
  });

  it.skipIf(!external)("refuses other clients without a token with 403 (needs a non-loopback address)", async () => {
    const port = await start(null);
    const res = await fetch(`http://${external}:${port}/metrics`);
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("FORBIDDEN");
  });

  it("requires the bearer token when it is set, loopback included", async () => {
    const port = await start(TOKEN);
    const none = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
    expect((await none.json()).error.code).toBe("UNAUTHORIZED");
    const wrong = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    const hosts = external ? ["127.0.0.1", external] : ["127.0.0.1"];
    for (const host of hosts) {
      const ok = await fetch(`http://${host}:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.status, host).toBe(200);
      expect(await ok.text()).toContain("process_cpu");
    }
  });
});
