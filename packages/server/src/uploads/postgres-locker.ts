import type { Logger } from "@reelkit/core";
import { ERRORS, type Lock, type Locker, type RequestRelease } from "@tus/server";
import pg from "pg";

/** The channel every instance listens on for release requests and releases. */
const CHANNEL = "reelkit_tus_lock";
/** How often a waiter retries and asks the holder again, when no notification wakes it first. */
const RETRY_MS = 250;
const ASK_AGAIN_MS = 1_000;

interface Holder {
  requestRelease: RequestRelease;
  /** The session the PostgreSQL lock was taken on; a lock of a dead session is already gone. */
  session: number;
  released: Promise<void>;
  resolveReleased: () => void;
}

type Message = { op: "release" | "released"; id: string };

/** Thrown when the lock service (the dedicated connection) is unavailable. */
const LOCK_UNAVAILABLE = { status_code: 503, body: "Upload locks are unavailable, try again\n" };

/**
 * A tus `Locker` shared by every server instance on one PostgreSQL database, so that one upload
 * is written by one request at a time whichever instance receives it.
 *
 * - Each instance holds one dedicated connection; an upload's lock is a session advisory lock on
 *   it (`pg_try_advisory_lock(hashtextextended(id, 0))`). Session locks are re-entrant, so an
 *   in-process map in front makes two requests of this instance wait for each other too.
 * - A request that finds the lock taken elsewhere asks the holder to let go with `pg_notify`;
 *   the holding instance calls that request's `requestRelease` (tus then ends it after its drain
 *   delay, keeping the bytes it stored), unlocks and announces it, and the waiter retries.
 * - When the connection drops, PostgreSQL has released every lock of the session: every request
 *   holding one is told to stop at once, since another instance may now take its upload.
 */
export class PostgresLocker implements Locker {
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  private session = 0;
  private closed = false;
  private readonly holders = new Map<string, Holder>();
  /** Waiters for a release notification, by upload id. */
  private readonly wakers = new Map<string, Set<() => void>>();

  constructor(
    private readonly opts: {
      connectionString: string;
      logger?: Logger;
      /** A request waiting longer than this for a lock fails (tus's own default: 30 s). */
      acquireLockTimeoutMs?: number;
      /** `application_name` of the lock connection, as `pg_stat_activity` shows it. */
      applicationName?: string;
    },
  ) {}

  /** Opens the dedicated connection now, so that a bad URL fails at start rather than at the first upload. */
  async start(): Promise<void> {
    await this.connection();
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  newLock(id: string): Lock {
    return {
      lock: (signal, requestRelease) => this.acquire(id, signal, requestRelease),
      unlock: () => this.release(id),
    };
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    if (this.closed) throw LOCK_UNAVAILABLE;
    this.connecting ??= (async () => {
      const client = new pg.Client({
        connectionString: this.opts.connectionString,
        application_name: this.opts.applicationName ?? "reelkit-upload-locks",
      });
      const session = ++this.session;
      client.on("notification", (n) => this.onNotification(n.payload));
      const lost = (err?: Error) => this.onConnectionLost(client, session, err);
      client.on("error", lost);
      client.on("end", () => lost());
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANNEL}`);
      } catch (err) {
        client.removeAllListeners("end");
        await client.end().catch(() => {});
        throw err;
      }
      this.client = client;
      return client;
    })().finally(() => {
      this.connecting = null;
    });
    return await this.connecting;
  }

  private onConnectionLost(client: pg.Client, session: number, err?: Error): void {
    if (this.client !== client) return;
    this.client = null;
    client.end().catch(() => {});
    if (this.closed) return;
    const held = [...this.holders.entries()].filter(([, h]) => h.session === session);
    this.opts.logger?.error(
      { err, uploads: held.map(([id]) => id) },
      "upload lock connection lost: stopping every request that held a lock",
    );
    for (const [, holder] of held) holder.requestRelease();
  }

  private onNotification(payload: string | undefined): void {
    let msg: Message;
    try {
      msg = JSON.parse(payload ?? "") as Message;
    } catch {
      return;
    }
    if (typeof msg?.id !== "string") return;
    if (msg.op === "release") {
      // Another instance wants this upload: the request holding it here (not one still waiting) lets go.
      const holder = this.holders.get(msg.id);
      if (holder && holder.session >= 0) holder.requestRelease();
    } else if (msg.op === "released") {
      this.wake(msg.id);
    }
  }

  private wake(id: string): void {
    const set = this.wakers.get(id);
    if (!set) return;
    this.wakers.delete(id);
    for (const w of set) w();
  }

  /** Resolves after `ms`, when `id` is announced released, or when `signal` aborts. */
  private pause(id: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wakers.get(id)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      let set = this.wakers.get(id);
      if (!set) {
        set = new Set();
        this.wakers.set(id, set);
      }
      set.add(done);
    });
  }

  private async notify(client: pg.Client, msg: Message): Promise<void> {
    await client.query("SELECT pg_notify($1, $2)", [CHANNEL, JSON.stringify(msg)]);
  }

  private async acquire(id: string, signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const deadline = Date.now() + (this.opts.acquireLockTimeoutMs ?? 30_000);
    const expired = () => signal.aborted || Date.now() > deadline;

    // 1. This instance: one request per upload at a time (the PostgreSQL lock is re-entrant).
    for (;;) {
      const local = this.holders.get(id);
      if (!local) break;
      local.requestRelease();
      await Promise.race([local.released, this.pause(id, RETRY_MS, signal)]);
      if (expired()) throw ERRORS.ERR_LOCK_TIMEOUT;
    }
    let resolveReleased = () => {};
    const released = new Promise<void>((r) => {
      resolveReleased = r;
    });
    const holder: Holder = { requestRelease, session: -1, released, resolveReleased };
    this.holders.set(id, holder);

    // 2. Every instance: the session advisory lock, asking its holder to let go while waiting.
    let lastAsked = 0;
    try {
      for (;;) {
        let client: pg.Client;
        try {
          client = await this.connection();
        } catch (err) {
          this.opts.logger?.error({ err }, "upload lock connection failed");
          throw LOCK_UNAVAILABLE;
        }
        const session = this.session;
        const res = await client
          .query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok", [id])
          .catch(() => null);
        if (res?.rows[0]?.ok) {
          if (this.client !== client || this.session !== session) continue; // the session died meanwhile
          holder.session = session;
          return;
        }
        if (res && Date.now() - lastAsked >= ASK_AGAIN_MS) {
          lastAsked = Date.now();
          await this.notify(client, { op: "release", id }).catch(() => {});
        }
        if (expired()) throw ERRORS.ERR_LOCK_TIMEOUT;
        await this.pause(id, RETRY_MS, signal);
        if (expired()) throw ERRORS.ERR_LOCK_TIMEOUT;
      }
    } catch (err) {
      this.holders.delete(id);
      resolveReleased();
      throw err;
    }
  }

  private async release(id: string): Promise<void> {
    const holder = this.holders.get(id);
    if (!holder) throw new Error("Releasing an unlocked lock!");
    const client = this.client;
    try {
      if (client && holder.session === this.session) {
        await client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [id]);
        await this.notify(client, { op: "released", id });
      }
    } catch (err) {
      // The connection is gone, and the session's locks with it.
      this.opts.logger?.warn({ err, uploadId: id }, "could not release an upload lock");
    } finally {
      this.holders.delete(id);
      holder.resolveReleased();
      this.wake(id);
    }
  }
}
