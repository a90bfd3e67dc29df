import http from "node:http";
import type { AddressInfo } from "node:net";

/** One request a receiver got. */
export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  receivedAt: number;
  /** The status answered. */
  status: number;
}

/**
 * A real HTTP server standing in for an integrator's webhook endpoint, on 127.0.0.1: records
 * every request, answers 204 (or what `answer` says), and can go down (port closed, connections
 * refused) and come back up on the same port.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** The status for a request; 204 by default. */
  answer: (request: Omit<ReceivedWebhook, "status">) => number = () => 204;
  private server: http.Server | null = null;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async up(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const request = {
          id: String(req.headers["webhook-id"] ?? ""),
          timestamp: String(req.headers["webhook-timestamp"] ?? ""),
          signature: String(req.headers["webhook-signature"] ?? ""),
          body: Buffer.concat(chunks).toString("utf8"),
          receivedAt: Date.now(),
        };
        const status = this.answer(request);
        this.received.push({ ...request, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Closes the port: deliveries are refused until `up()`. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  /** The ids received with a 2xx answer, first receipt order, each once. */
  acceptedIds(): string[] {
    return [...new Set(this.received.filter((r) => r.status < 300).map((r) => r.id))];
  }

  /** Parsed bodies of the accepted deliveries, first receipt of each id. */
  acceptedEvents(): { id: string; type: string; data: { id: string; title: string } }[] {
    const seen = new Set<string>();
    const out: { id: string; type: string; data: { id: string; title: string } }[] = [];
    for (const r of this.received) {
      if (r.status >= 300 || seen.has(r.id)) continue;
      seen.add(r.id);
      out.push({ id: r.id, ...JSON.parse(r.body) });
    }
    return out;
  }
}
