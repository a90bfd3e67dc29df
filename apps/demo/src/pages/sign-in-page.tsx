import { HANDLE_PATTERN } from "@reelkit/sdk";
import { type FormEvent, useId, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { ProviderButtons, providerErrorMessage } from "../components/provider-buttons.js";
import { useSession } from "../session.js";
import { useDocumentTitle } from "../use-document-title.js";

/** Only paths on this site: a `next` pointing elsewhere is ignored. */
function safeNext(next: string | null): string {
  return next?.startsWith("/") && !next.startsWith("//") ? next : "/mine";
}

/** A handle suggested from the name (or the address) until the visitor types one of their own. */
export function suggestHandle(from: string): string {
  const base = from
    .split("@")[0]
    ?.normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .slice(0, 30)
    .replace(/^[-_]+|[-_]+$/g, "");
  return base ?? "";
}

export const HANDLE_RULE = "3–30 characters: lower-case letters, digits, - and _, starting with a letter or digit";

/** What the password must be; the server (Better Auth's default) refuses shorter ones. */
export const MIN_PASSWORD_LENGTH = 8;

/** Why a page that needs an account sent the visitor here, by where they were going. */
function reasonFor(next: string | null, signUp: boolean): string | null {
  const path = next?.split(/[?#]/)[0];
  const act = signUp ? "Create an account" : "Sign in";
  if (path === "/upload") return `${act} to upload: videos on Reelkit belong to an account.`;
  if (path === "/mine") return `${act} to see your videos.`;
  return null;
}

export function SignInPage({ mode }: { mode: "sign-in" | "sign-up" }) {
  const signUp = mode === "sign-up";
  useDocumentTitle(signUp ? "Create an account" : "Sign in");
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const reason = reasonFor(params.get("next"), signUp);
  // Set when an identity provider's sign-in came back refused.
  const providerError = params.get("error");
  const ids = useId();
  const [name, setName] = useState("");
  // null: follow the name (a suggestion); a string: what the visitor typed.
  const [chosenHandle, setChosenHandle] = useState<string | null>(null);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const handle = chosenHandle ?? suggestHandle(name || email);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (signUp && !new RegExp(HANDLE_PATTERN).test(handle.trim().toLowerCase())) {
      setError(`The handle does not fit: ${HANDLE_RULE}`);
      return;
    }
    // Checked here rather than by the browser (minLength) so the message is the site's own.
    if (signUp && password.length < MIN_PASSWORD_LENGTH) {
      setError(`The password is too short: use at least ${MIN_PASSWORD_LENGTH} characters.`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (signUp) {
        await session.signUp({
          name: name.trim() || email.split("@")[0] || email,
          email,
          password,
          handle: handle.trim().toLowerCase(),
        });
      } else await session.signIn({ email, password });
      navigate(next);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const heading = signUp ? "Create an account" : "Sign in";
  return (
    <section aria-labelledby={`${ids}-heading`} className="demo-auth">
      <h1 id={`${ids}-heading`}>{heading}</h1>
      {reason && <p className="demo-notice">{reason}</p>}
      {providerError && (
        <p role="alert" className="demo-error">
          {providerErrorMessage(providerError)}
        </p>
      )}
      <ProviderButtons next={next} />
      <form className="demo-edit" onSubmit={submit} aria-label={heading}>
        {signUp && (
          <>
            <label htmlFor={`${ids}-name`}>Name</label>
            <input
              id={`${ids}-name`}
              className="rk-input"
              autoComplete="name"
              maxLength={100}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </>
        )}
        {signUp && (
          <>
            <label htmlFor={`${ids}-handle`}>Channel handle</label>
            <input
              id={`${ids}-handle`}
              className="rk-input"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              required
              maxLength={30}
              aria-describedby={`${ids}-handle-rule`}
              value={handle}
              onChange={(e) => setChosenHandle(e.target.value)}
            />
            <p id={`${ids}-handle-rule`} className="demo-field-hint">
              Your channel's address: /c/{handle.trim().toLowerCase() || "…"}. {HANDLE_RULE}.
            </p>
          </>
        )}
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
        <label htmlFor={`${ids}-password`}>Password</label>
        <input
          id={`${ids}-password`}
          className="rk-input"
          type="password"
          autoComplete={signUp ? "new-password" : "current-password"}
          required
          aria-describedby={signUp ? `${ids}-password-rule` : undefined}
          aria-invalid={signUp && error !== null && password.length < MIN_PASSWORD_LENGTH ? true : undefined}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {signUp ? (
          <p id={`${ids}-password-rule`} className="demo-field-hint">
            At least {MIN_PASSWORD_LENGTH} characters.
          </p>
        ) : (
          <p className="demo-field-hint">
            <Link to={`/forgot-password${email ? `?email=${encodeURIComponent(email)}` : ""}`}>Forgot password?</Link>
          </p>
        )}
        <div className="demo-actions">
          <button type="submit" className="demo-button" disabled={busy}>
            {signUp ? "Create account" : "Sign in"}
          </button>
        </div>
        {error && (
          <p role="alert" className="demo-error">
            {error}
          </p>
        )}
      </form>
      <p className="demo-muted">
        {signUp ? (
          <>
            Already have an account? <Link to={`/sign-in?next=${encodeURIComponent(next)}`}>Sign in</Link>
          </>
        ) : (
          <>
            New here? <Link to={`/sign-up?next=${encodeURIComponent(next)}`}>Create an account</Link>
          </>
        )}
      </p>
    </section>
  );
}
