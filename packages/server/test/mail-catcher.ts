import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** One message the catcher received, its text part decoded. */
export interface CaughtMail {
  from: string;
  to: string[];
  subject: string;
  /** The plain-text body, transfer encoding undone. */
  text: string;
  raw: string;
}

/** A real SMTP server on 127.0.0.1 (the `smtp-server` package) that keeps what it receives. */
export interface MailCatcher {
  /** `smtp://127.0.0.1:<port>`: what SMTP_URL takes. */
  url: string;
  mails: CaughtMail[];
  /** The next mail to `to` whose subject matches, waiting for it to arrive. */
  waitFor(to: string, subject: RegExp, timeoutMs?: number): Promise<CaughtMail>;
  close(): Promise<void>;
}

/** The first http(s) link in a mail's text. */
export function firstLink(mail: CaughtMail): string {
  const link = /https?:\/\/\S+/.exec(mail.text)?.[0];
  if (!link) throw new Error(`no link in the mail "${mail.subject}":\n${mail.text}`);
  return link;
}

function decodeQuotedPrintable(body: string): string {
  const bytes = body
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}

/** A single-part text mail as nodemailer writes it: headers (unfolded), then the decoded body. */
export function parseMail(raw: string): Pick<CaughtMail, "subject" | "text"> {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const body = raw.slice(split + 4);
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "im").exec(head)?.[1]?.trim() ?? "";
  const encoding = header("Content-Transfer-Encoding").toLowerCase();
  const text =
    encoding === "quoted-printable"
      ? decodeQuotedPrintable(body)
      : encoding === "base64"
        ? Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8")
        : body;
  return { subject: header("Subject"), text: text.replace(/\r\n/g, "\n").trimEnd() };
}

/** Starts the catcher: no TLS, any sender, any recipient, no authentication. */
export async function startMailCatcher(): Promise<MailCatcher> {
  const mails: CaughtMail[] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          ...parseMail(raw),
        });
        for (const wake of waiters) wake();
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  const taken = new Set<CaughtMail>();

  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    waitFor(to, subject, timeoutMs = 10_000) {
      const find = () => mails.find((m) => !taken.has(m) && m.to.includes(to) && subject.test(m.subject));
      return new Promise((resolve, reject) => {
        const check = () => {
          const mail = find();
          if (!mail) return false;
          taken.add(mail);
          waiters.delete(check);
          clearTimeout(timer);
          resolve(mail);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no mail to ${to} matching ${subject} within ${timeoutMs} ms (got ${mails.length})`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
