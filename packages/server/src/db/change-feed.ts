import { EventEmitter } from "node:events";
import type { Logger } from "@reelkit/core";
import pg from "pg";

/**
 * "Video X changed", seen by every server instance on the same database (this one included),
 * so each can drop what it cached about X.
 */
export interface ChangeFeed {
  /** Announces a change of video `id` to every instance. */
  publish(id: string): Promise<void>;
  /**
   * Calls `listener` with each changed id, or with null when changes may have been missed
   * (the feed reconnected): then everything cached is suspect.
   */
  subscribe(listener: (id: string | null) => void): () => void;
  close(): Promise<void>;
}

/** Events of this process only: enough for one instance (tests, a catalog nobody else writes). */
export class InProcessChangeFeed implements ChangeFeed {
  private readonly events = new EventEmitter();

  constructor() {
    this.events.setMaxListeners(0);
  }

  async publish(id: string): Promise<void> {
    this.events.emit("change", id);
  }

  subscribe(listener: (id: string | null) => void): () => void {
    this.events.on("change", listener);
    return () => this.events.off("change", listener);
  }

  async close(): Promise<void> {
    this.events.removeAllListeners();
  }
}

export const CHANGE_CHANNEL = "reelkit_catalog";
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;

/**
 * PostgreSQL LISTEN/NOTIFY on one dedicated connection: NOTIFY reaches every listening session
 * of the database, i.e. every instance. A lost connection is re-established (with back-off) and
 * reported as `null` (changes while disconnected were not heard).
 */
export class PostgresChangeFeed implements ChangeFeed {
  private readonly events = new EventEmitter();
  private client: pg.Client | null = null;
  private closed = false;
  private connecting: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Whether a connection listened before: a later one may have missed changes. */
  private listenedBefore = false;

  constructor(
    private readonly url: string,
    private readonly logger?: Logger,
    /** The NOTIFY channel; another than the catalog's carries other news (the job queue's). */
    private readonly channel: string = CHANGE_CHANNEL,
  ) {
    this.events.setMaxListeners(0);
  }

  /**
   * Connects and listens; resolves once NOTIFYs are being received. When that fails, rejects
   * and keeps trying in the background (listeners hear `null` once it listens).
   */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      this.retry(RETRY_FIRST_MS);
      throw err;
    }
  }

  private connect(): Promise<void> {
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.url });
      client.on("notification", (msg) => {
        if (msg.channel === this.channel && msg.payload) this.events.emit("change", msg.payload);
      });
      client.on("error", (err) => {
        this.logger?.warn({ err, channel: this.channel }, "LISTEN connection failed; reconnecting");
        this.reconnect(client);
      });
      client.on("end", () => this.reconnect(client));
      try {
        await client.connect();
        await client.query(`LISTEN ${this.channel}`);
      } catch (err) {
        client.removeAllListeners("end");
        await client.end().catch(() => {});
        throw err;
      }
      if (this.closed) {
        await client.end().catch(() => {});
        return;
      }
      this.client = client;
      // Whatever was announced while no connection listened was not heard.
      if (this.listenedBefore) this.events.emit("change", null);
      this.listenedBefore = true;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private reconnect(dead: pg.Client): void {
    if (this.closed || this.client !== dead) return;
    this.client = null;
    dead.removeAllListeners("end");
    dead.end().catch(() => {});
    this.retry(RETRY_FIRST_MS);
  }

  /** Tries to listen again after `delay`, backing off, until it listens or the feed is closed. */
  private retry(delay: number): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      // Reconnected in the meantime (by `publish`): one connection is enough.
      if (this.closed || this.client) return;
      this.connect().catch(() => this.retry(Math.min(delay * 2, RETRY_MAX_MS)));
    }, delay);
    this.retryTimer.unref();
  }

  async publish(id: string): Promise<void> {
    if (!this.client) await this.connect();
    await this.client?.query("SELECT pg_notify($1, $2)", [this.channel, id]);
  }

  subscribe(listener: (id: string | null) => void): () => void {
    this.events.on("change", listener);
    return () => this.events.off("change", listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.events.removeAllListeners();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}
