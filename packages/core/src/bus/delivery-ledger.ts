import { text } from "node:stream/consumers";
import type { Storage } from "../storage/storage.js";

/** What is known about one message's deliveries so far. */
export interface DeliveryRecord {
  /** Deliveries started, this one included. */
  attempts: number;
  /** Why the last failed delivery failed; null when none failed by throwing (e.g. a crash). */
  lastError: string | null;
}

/**
 * Counts the deliveries of a message, for a bus whose broker does not (Kafka). Kept in memory,
 * a message that kills its process each time is delivered again and again: a durable ledger
 * counts the deliveries of every process, so the message is parked after N whoever tried.
 * `id` names one message in one consumer group (group, topic, partition, offset).
 */
export interface DeliveryLedger {
  /** Counts a new delivery, before the handler runs; returns the record including it. */
  begin(id: string): Promise<DeliveryRecord>;
  /** The delivery failed with `error` (kept for the next one, and for the dead letter). */
  failed(id: string, error: string): Promise<void>;
  /** The delivery was handed back unfinished (a graceful stop): it does not count. */
  handBack(id: string): Promise<void>;
  /** The message is done with (acknowledged or parked). */
  forget(id: string): Promise<void>;
}

/** Per process: what a bus without a durable ledger does (the counts die with the process). */
export class MemoryDeliveryLedger implements DeliveryLedger {
  readonly #records = new Map<string, DeliveryRecord>();

  async begin(id: string): Promise<DeliveryRecord> {
    const prev = this.#records.get(id);
    const record = { attempts: (prev?.attempts ?? 0) + 1, lastError: prev?.lastError ?? null };
    this.#records.set(id, record);
    return { ...record };
  }

  async failed(id: string, error: string): Promise<void> {
    const record = this.#records.get(id);
    if (record) record.lastError = error;
  }

  async handBack(id: string): Promise<void> {
    const record = this.#records.get(id);
    if (record) record.attempts = Math.max(0, record.attempts - 1);
  }

  async forget(id: string): Promise<void> {
    this.#records.delete(id);
  }
}

/**
 * The ledger as small JSON objects in storage (`bus/deliveries/<id>.json`): the bucket (or the
 * shared media directory) is the one durable store every transcoder process has, and a
 * transcoder keeps no database connection. One consumer owns a partition at a time (a revoked
 * one stops its handler), so a read-then-write needs no compare-and-swap.
 */
export class StorageDeliveryLedger implements DeliveryLedger {
  constructor(
    private readonly storage: Storage,
    private readonly prefix = "bus/deliveries/",
  ) {}

  #key(id: string): string {
    // Keys are `/`-separated words: the id's own separators become dashes.
    return `${this.prefix}${id.replace(/[^A-Za-z0-9._-]+/g, "-")}.json`;
  }

  async #read(id: string): Promise<DeliveryRecord> {
    const key = this.#key(id);
    if (!(await this.storage.stat(key))) return { attempts: 0, lastError: null };
    try {
      const parsed = JSON.parse(await text(await this.storage.get(key))) as Partial<DeliveryRecord>;
      return {
        attempts: Number.isInteger(parsed.attempts) ? Number(parsed.attempts) : 0,
        lastError: typeof parsed.lastError === "string" ? parsed.lastError : null,
      };
    } catch {
      // Removed between stat and get (forgotten by a former owner), or unreadable: start over.
      return { attempts: 0, lastError: null };
    }
  }

  async #write(id: string, record: DeliveryRecord): Promise<void> {
    await this.storage.put(this.#key(id), JSON.stringify(record), {
      contentType: "application/json",
      cacheControl: "no-store",
    });
  }

  async begin(id: string): Promise<DeliveryRecord> {
    const prev = await this.#read(id);
    const record = { attempts: prev.attempts + 1, lastError: prev.lastError };
    await this.#write(id, record);
    return record;
  }

  async failed(id: string, error: string): Promise<void> {
    const record = await this.#read(id);
    await this.#write(id, { attempts: Math.max(1, record.attempts), lastError: error });
  }

  async handBack(id: string): Promise<void> {
    const record = await this.#read(id);
    const attempts = Math.max(0, record.attempts - 1);
    // Nothing left to remember (or forgotten meanwhile by the message's next owner): no record.
    if (attempts === 0 && record.lastError === null) return this.storage.delete(this.#key(id));
    await this.#write(id, { ...record, attempts });
  }

  async forget(id: string): Promise<void> {
    await this.storage.delete(this.#key(id));
  }
}
