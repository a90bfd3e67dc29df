import { useReelkitClient } from "@reelkit/react";
import type { MailOutbox } from "@reelkit/sdk/contract";
import { useEffect, useId, useState } from "react";
import { LinkedText } from "../components/linked-text.js";
import { formatDate } from "../format.js";
import { useSession } from "../session.js";
import { useDocumentTitle } from "../use-document-title.js";

type OutboxState = { kind: "loading" } | { kind: "loaded"; outbox: MailOutbox } | { kind: "error"; message: string };

/**
 * `/admin/outbox`: the server's account mails when it has no SMTP server (reset and
 * verification links), for an admin to pass on. Others get the server's 403 in words.
 */
export function OutboxPage() {
  useDocumentTitle("Mail outbox");
  const client = useReelkitClient();
  const { user } = useSession();
  const ids = useId();
  const [state, setState] = useState<OutboxState>({ kind: "loading" });

  useEffect(() => {
    let live = true;
    (async () => {
      const res = await client.fetch(client.url("/api/admin/mail"), {
        headers: { accept: "application/json", ...(await client.authHeaders()) },
        credentials: "include",
      });
      const body = (await res.json().catch(() => null)) as (MailOutbox & { error?: { message?: string } }) | null;
      if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
      return body as MailOutbox;
    })().then(
      (outbox) => live && setState({ kind: "loaded", outbox }),
      (e: unknown) => live && setState({ kind: "error", message: e instanceof Error ? e.message : String(e) }),
    );
    return () => {
      live = false;
    };
  }, [client]);

  return (
    <section aria-labelledby={`${ids}-heading`}>
      <h1 id={`${ids}-heading`}>Mail outbox</h1>
      {user?.role !== "admin" && <p className="demo-muted">Only an admin reads the mail outbox.</p>}
      {state.kind === "loading" && (
        <p role="status" className="demo-muted">
          Loading…
        </p>
      )}
      {state.kind === "error" && (
        <p role="alert" className="demo-error">
          {state.message}
        </p>
      )}
      {state.kind === "loaded" && state.outbox.delivery === "smtp" && (
        <p className="demo-notice">Mails go out through the SMTP server (SMTP_URL): none are kept here.</p>
      )}
      {state.kind === "loaded" && state.outbox.delivery === "outbox" && (
        <>
          <p className="demo-muted">
            This server has no SMTP server (SMTP_URL), so its password-reset and verification mails are written to the
            server log and kept here, newest first. Pass a link on only to the person it was sent to.
          </p>
          {state.outbox.items.length === 0 ? (
            <p className="demo-empty">No mail yet.</p>
          ) : (
            <ul className="demo-outbox">
              {state.outbox.items.map((mail) => (
                <li key={mail.id} aria-label={`${mail.subject} to ${mail.to}`}>
                  <h2>{mail.subject}</h2>
                  <p className="demo-muted">
                    To {mail.to} · <time dateTime={mail.sentAt}>{formatDate(mail.sentAt)}</time>
                  </p>
                  <pre className="demo-outbox-text">
                    <LinkedText text={mail.text} />
                  </pre>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
