import type { Config, Logger } from "@reelkit/core";
import type { Transporter } from "nodemailer";

/** One message to one address: plain text, the links in it written out. */
export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** A mail as the local outbox keeps it. */
export interface SentMail extends Mail {
  id: number;
  from: string;
  sentAt: string;
}

/**
 * Where the server's mails go: an SMTP server (`SMTP_URL`), or, with none configured, the
 * server log and a short in-memory outbox an admin reads at `GET /api/admin/mail`.
 */
export interface Mailer {
  readonly kind: "smtp" | "outbox";
  send(mail: Mail): Promise<void>;
  /** The outbox's mails, newest first (an SMTP mailer keeps none). */
  recent(): SentMail[];
}

/** How many mails the local outbox keeps (older ones are still in the log). */
const OUTBOX_SIZE = 100;

/**
 * Sends through nodemailer's SMTP transport (`smtp://`, `smtps://`, credentials in the URL).
 * nodemailer (≈ 5 MB of heap) is loaded with the first mail, not at start: most servers send
 * few mails, and the embedded default sends none this way.
 */
export class SmtpMailer implements Mailer {
  readonly kind = "smtp";
  private transport: Promise<Transporter> | null = null;

  constructor(
    private readonly url: string,
    private readonly from: string,
  ) {}

  async send(mail: Mail): Promise<void> {
    this.transport ??= import("nodemailer").then((m) => m.createTransport(this.url));
    const transport = await this.transport.catch((err) => {
      this.transport = null;
      throw err;
    });
    await transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text });
  }

  recent(): SentMail[] {
    return [];
  }

  close(): void {
    void this.transport?.then((t) => t.close()).catch(() => {});
  }
}

/**
 * The embedded default: every mail goes to the server log (info, with its text) and to an
 * outbox in memory, so a fresh `npm start` can reset a password with no mail server at all.
 */
export class OutboxMailer implements Mailer {
  readonly kind = "outbox";
  private readonly mails: SentMail[] = [];
  private nextId = 1;

  constructor(
    private readonly from: string,
    private readonly logger?: Logger,
  ) {}

  async send(mail: Mail): Promise<void> {
    const sent: SentMail = { ...mail, id: this.nextId++, from: this.from, sentAt: new Date().toISOString() };
    this.mails.unshift(sent);
    this.mails.length = Math.min(this.mails.length, OUTBOX_SIZE);
    this.logger?.info({ mail: sent }, `mail to ${mail.to} (no SMTP_URL: kept in the admin's outbox): ${mail.subject}`);
  }

  recent(): SentMail[] {
    return [...this.mails];
  }
}

/** SMTP when `SMTP_URL` is set, else the log and the local outbox. */
export function createMailer(config: Pick<Config, "smtpUrl" | "mailFrom">, logger?: Logger): Mailer {
  return config.smtpUrl
    ? new SmtpMailer(config.smtpUrl, config.mailFrom)
    : new OutboxMailer(config.mailFrom, logger?.child({ name: "mail" }));
}

/**
 * Sends without failing the request that caused it: a sign-up or a reset request answers the
 * same whether the mail went out or not (the answer must not tell whether an address has an
 * account); a failure is logged for the operator.
 */
export async function sendLogged(mailer: Mailer, mail: Mail, logger?: Logger): Promise<void> {
  try {
    await mailer.send(mail);
  } catch (err) {
    logger?.error({ err, to: mail.to, subject: mail.subject }, "mail could not be sent");
  }
}
