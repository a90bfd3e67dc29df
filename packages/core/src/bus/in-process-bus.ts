import type { EventPayloads, Handler, HandlerMap, Topic } from "../events.js";
import type { Bus } from "./bus.js";

/**
 * Delivers in the same process. `publish` awaits every group's handler, so a publisher that
 * records delivery only after `publish` resolves (the outbox relay) gets redelivery after a
 * crash for free. A handler that throws rejects the publish; the caller retries.
 */
export class InProcessBus implements Bus {
  readonly #groups = new Map<string, HandlerMap>();
  #closed = false;

  async publish<T extends Topic>(topic: T, payload: EventPayloads[T]): Promise<void> {
    if (this.#closed) throw new Error("bus is closed");
    const deliveries: Promise<void>[] = [];
    for (const handlers of this.#groups.values()) {
      const handler = handlers[topic] as Handler<T> | undefined;
      if (handler) deliveries.push(handler(payload));
    }
    await Promise.all(deliveries);
  }

  async subscribe(group: string, handlers: HandlerMap): Promise<void> {
    const existing = this.#groups.get(group) ?? {};
    for (const topic of Object.keys(handlers) as Topic[]) {
      if (existing[topic]) throw new Error(`group ${group} already has a handler for ${topic}`);
    }
    this.#groups.set(group, { ...existing, ...handlers });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#groups.clear();
  }
}
