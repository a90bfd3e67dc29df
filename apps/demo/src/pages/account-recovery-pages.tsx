import { type FormEvent, useId, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useSession } from "../session.js";
import { useDocumentTitle } from "../use-document-title.js";
import { MIN_PASSWORD_LENGTH } from "./sign-in-page.js";

/** `/forgot-password`: asks for the address and mails a reset link to it. */
export function ForgotPasswordPage() {
  useDocumentTitle("Reset your password");
  const session = useSession();
  const [params] = useSearchParams();
  const ids = useId();
  const [email, setEmail] = useState(params.get("email") ?? "");
  const [busy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.requestPasswordReset(email.trim());
      setSentTo(email.trim());
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby={`${ids}-heading`} className="demo-auth">
      <h1 id={`${ids}-heading`}>Reset your password</h1>
      {sentTo ? (
        <div role="status" className="demo-notice">
          <p>
            If an account uses <strong>{sentTo}</strong>, a link to choose a new password is on its way. It works once,
            for an hour.
          </p>
          <p>
            No mail? Look in the spam folder. On a server without a mail server, an admin finds it in the{" "}
            <Link to="/admin/outbox">mail outbox</Link>.
          </p>
        </div>
      ) : (
        <form className="demo-edit" onSubmit={submit} aria-label="Reset your password">
          <p className="demo-muted">
            Enter the address you signed up with: we mail you a link to choose a new password.
          </p>
          <label htmlFor={`${ids}-email`}>Email</label>
          <input
            id={`${ids}-email`}
            className="rk-input"
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
          <div className="demo-actions">
            <button type="submit" className="demo-button" disabled={busy}>
              Send the link
            </button>
          </div>
          {error && (
            <p role="alert" className="demo-error">
              {error}
            </p>
          )}
        </form>
      )}
      <p className="demo-muted">
        Remembered it? <Link to="/sign-in">Sign in</Link>
      </p>
    </section>
  );
}

/** The words for an error a mailed link came back with (`?error=` of Better Auth's redirects). */
export function linkErrorMessage(code: string): string {
  if (code === "TOKEN_EXPIRED") return "This link has expired.";
  if (code === "USER_NOT_FOUND") return "The account of this link no longer exists.";
  return "This link has expired or was already used.";
}

/** `/reset-password?token=…`: where the reset mail's link lands; sets the new password. */
export function ResetPasswordPage() {
  useDocumentTitle("Choose a new password");
  const session = useSession();
  const [params] = useSearchParams();
  const token = params.get("token");
  const linkError = params.get("error") ?? (token ? null : "INVALID_TOKEN");
  const ids = useId();
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<{ message: string; code?: string } | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (password.length < MIN_PASSWORD_LENGTH) {
      setError({ message: `The password is too short: use at least ${MIN_PASSWORD_LENGTH} characters.` });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await session.resetPassword({ token: token ?? "", newPassword: password });
      setDone(true);
    } catch (err) {
      const code = (err as { code?: string }).code;
      setError({
        message: code === "INVALID_TOKEN" ? linkErrorMessage(code) : err instanceof Error ? err.message : String(err),
        code,
      });
    } finally {
      setBusy(false);
    }
  };

  const tokenRefused = linkError !== null || error?.code === "INVALID_TOKEN";
  return (
    <section aria-labelledby={`${ids}-heading`} className="demo-auth">
      <h1 id={`${ids}-heading`}>Choose a new password</h1>
      {done ? (
        <div role="status" className="demo-notice">
          <p>Your password is changed, and every device that was signed in is signed out.</p>
          <p>
            <Link to="/sign-in" className="demo-button">
              Sign in
            </Link>
          </p>
        </div>
      ) : tokenRefused ? (
        <div role="alert" className="demo-notice">
          <p>{error?.message ?? linkErrorMessage(linkError ?? "INVALID_TOKEN")}</p>
          <p>
            <Link to="/forgot-password">Ask for a new link</Link>
          </p>
        </div>
      ) : (
        <form className="demo-edit" onSubmit={submit} aria-label="Choose a new password">
          <label htmlFor={`${ids}-password`}>New password</label>
          <input
            id={`${ids}-password`}
            className="rk-input"
            type="password"
            autoComplete="new-password"
            required
            aria-describedby={`${ids}-password-rule`}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <p id={`${ids}-password-rule`} className="demo-field-hint">
            At least {MIN_PASSWORD_LENGTH} characters.
          </p>
          <div className="demo-actions">
            <button type="submit" className="demo-button" disabled={busy}>
              Set the password
            </button>
          </div>
          {error && (
            <p role="alert" className="demo-error">
              {error.message}
            </p>
          )}
        </form>
      )}
    </section>
  );
}

/** `/verified`: where the verification mail's link lands (`?error=` when it was refused). */
export function VerifiedPage() {
  useDocumentTitle("E-mail verification");
  const [params] = useSearchParams();
  const error = params.get("error");
  const ids = useId();
  return (
    <section aria-labelledby={`${ids}-heading`} className="demo-auth">
      <h1 id={`${ids}-heading`}>{error ? "The address is not verified" : "Your address is verified"}</h1>
      {error ? (
        <div role="alert" className="demo-notice">
          <p>{linkErrorMessage(error)}</p>
          <p>Sign in: the notice at the top of the page sends a new link.</p>
        </div>
      ) : (
        <p className="demo-notice">Thank you: your e-mail address is confirmed.</p>
      )}
      <p>
        <Link to="/">Go to the home page</Link>
      </p>
    </section>
  );
}

/** The notice above every page while a signed-in user's address is not verified. */
export function VerifyEmailNotice() {
  const session = useSession();
  const [state, setState] = useState<"idle" | "busy" | "sent" | "failed">("idle");
  const { user } = session;
  if (user?.emailVerified !== false) return null;
  const send = () => {
    setState("busy");
    session.sendVerificationEmail().then(
      () => setState("sent"),
      () => setState("failed"),
    );
  };
  return (
    <section className="demo-notice demo-verify-notice" aria-label="E-mail verification">
      {state === "sent" ? (
        <p role="status">A new link is on its way to {user.email}.</p>
      ) : (
        <p>
          Please verify your e-mail address: we mailed a link to {user.email}.{" "}
          <button type="button" className="demo-button demo-button--plain" disabled={state === "busy"} onClick={send}>
            Send it again
          </button>
          {state === "failed" && (
            <span role="alert" className="demo-error">
              {" "}
              The mail could not be sent; try again later.
            </span>
          )}
        </p>
      )}
    </section>
  );
}
