import { execFile } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";

// A Kafka broker of a test's own (scripts/engines.sh with its own port and directory), for
// tests that stop and start the broker: the shared one of KAFKA_BROKERS_TEST stays up for the
// other suites.

const run = promisify(execFile);
const ENGINES = path.resolve(import.meta.dirname, "../scripts/engines.sh");

export interface PrivateKafka {
  brokers: string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A broker on a free port keeping its data in `dir`, started. Stop it when done (`stop`). */
export async function startPrivateKafka(dir: string): Promise<PrivateKafka> {
  const port = await freePortPair();
  const env = { ...process.env, REELKIT_KAFKA_PORT: String(port), REELKIT_KAFKA_DIR: dir };
  const kafka: PrivateKafka = {
    brokers: [`127.0.0.1:${port}`],
    start: async () => void (await run(ENGINES, ["start", "kafka"], { env, timeout: 180_000 })),
    stop: async () => void (await run(ENGINES, ["stop", "kafka"], { env, timeout: 60_000 })),
  };
  await kafka.start();
  return kafka;
}

/** A TCP port that is free, with the next one free too (the broker's controller port). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const next = await new Promise<boolean>((resolve) => {
      const s = net.createServer().once("error", () => resolve(false));
      s.listen(port + 1, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (next && port < 65_000) return port;
  }
}
