import { useState } from "react";
import { useSession } from "../session.js";

/** Why the server sent the browser back to the sign-in page (Better Auth's `?error=` codes). */
export function providerErrorMessage(code: string): string {
  if (code === "access_denied") return "Sign-in was cancelled at the provider.";
  if (code === "account_not_linked") return "An account with this e-mail already exists: sign in with its password.";
  return `Sign-in with the provider did not succeed (${code}). Please try again.`;
}

/** "Sign in with Google" / "Sign in with <issuer>": one button per provider the server offers. */
export function ProviderButtons({ next }: { next: string }) {
  const session = useSession();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (session.providers.length === 0) return null;

  const start = async (provider: string) => {
    setBusy(provider);
    setError(null);
    try {
      await session.signInWith(provider, next);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(null);
    }
  };

  return (
    <fieldset className="demo-providers" aria-label="Other ways to sign in">
      {session.providers.map((p) => (
        <button
          key={p.id}
          type="button"
          className="demo-button demo-button--plain"
          disabled={busy !== null}
          onClick={() => start(p.id)}
        >
          Sign in with {p.name}
        </button>
      ))}
      {error && (
        <p role="alert" className="demo-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}
