import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { ErrorBody, MailOutbox } from "@reelkit/sdk/contract";
import type { FastifyInstance } from "fastify";
import type { AuthService } from "../auth/auth-service.js";
import { errors } from "./errors.js";

export interface AdminRoutesOptions {
  auth: AuthService;
}

/** `/api/admin/*`: what only an admin reads (the local mail outbox). */
export async function adminRoutes(app: FastifyInstance, opts: AdminRoutesOptions): Promise<void> {
  const { auth } = opts;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    "/api/admin/mail",
    {
      schema: {
        summary:
          "The server's account mails when no SMTP_URL is set (the last 100, newest first; an admin only): password-reset and verification links for a server without a mail server",
        response: { 200: MailOutbox, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request, reply) => {
      const user = await auth.requireUser(request);
      if (!user.isAdmin) throw errors.forbidden("Only an admin reads the mail outbox");
      // Reset links are credentials: never kept by a cache.
      reply.header("Cache-Control", "no-store");
      return { delivery: auth.mailer.kind, items: auth.mailer.recent() };
    },
  );
}
