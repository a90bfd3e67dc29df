import { type FastifyReply, type FastifyRequest, LogController } from "fastify";

/**
 * One access-log line per request, written when it completes: method, path, status, time and
 * client address. Fastify's default writes two (received, completed); logging is a large share of
 * a request's cost under read load, so one line per request is all it gets (figures in
 * docs/benchmarks.md).
 */
export class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = {
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      responseTime: reply.elapsedTime,
      remoteAddress: request.ip,
    };
    if (error) reply.log.error({ ...line, err: error }, "request errored");
    else reply.log.info(line, "request completed");
  }
}
