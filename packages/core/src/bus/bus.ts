import type { EventPayloads, HandlerMap, Topic } from "../events.js";

export interface Bus {
  /**
   * Resolves once the message is durably accepted: by the broker (Kafka), or — for the
   * in-process bus, which has no storage of its own — once every subscribed handler has
   * finished with it. Callers that need durability (the outbox relay) mark a message sent only
   * after this resolves, so nothing is lost across a crash.
   */
  publish<T extends Topic>(topic: T, payload: EventPayloads[T], key?: string): Promise<void>;
  /**
   * Registers a consumer group's handlers. Refuses a registry that names a topic twice across
   * calls for the same group, and rejects unknown topics at compile time.
   */
  subscribe(group: string, handlers: HandlerMap): Promise<void>;
  close(): Promise<void>;
}
