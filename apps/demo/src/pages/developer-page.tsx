import { useReelkitClient } from "@reelkit/react";
import type { ApiKey, ApiKeyScope, CreatedApiKey } from "@reelkit/sdk";
import { type FormEvent, useCallback, useEffect, useId, useState } from "react";
import { Link } from "react-router";
import { WebhooksPanel } from "../components/webhooks-panel.js";
import { useSession } from "../session.js";
import { useDocumentTitle } from "../use-document-title.js";

type KeysState = { kind: "loading" } | { kind: "loaded"; keys: ApiKey[] } | { kind: "error"; message: string };

/**
 * API keys for a site's backend (create with a name and scope, see once, revoke), made with
 * this signed-in session; webhook endpoints below. See docs/uploads.md.
 */
export function DeveloperPage() {
  useDocumentTitle("Developer");
  const client = useReelkitClient();
  const { user } = useSession();
  const ids = useId();
  const [state, setState] = useState<KeysState>({ kind: "loading" });
  const [name, setName] = useState("");
  const [scope, setScope] = useState<ApiKeyScope>("upload");
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  /** Same-origin calls with the session cookie (a key is never made from a key). */
  const call = useCallback(
    async <T,>(method: string, path: string, body?: unknown): Promise<T> => {
      const headers: Record<string, string> = { accept: "application/json", ...(await client.authHeaders()) };
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await client.fetch(client.url(path), {
        method,
        headers,
        credentials: "include",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) {
        const message = (() => {
          try {
            return (JSON.parse(text) as { error?: { message?: string } }).error?.message;
          } catch {
            return undefined;
          }
        })();
        throw new Error(message ?? `HTTP ${res.status}`);
      }
      return (text ? JSON.parse(text) : undefined) as T;
    },
    [client],
  );

  const load = useCallback(() => {
    call<{ items: ApiKey[] }>("GET", "/api/api-keys").then(
      ({ items }) => setState({ kind: "loaded", keys: items }),
      (e: unknown) => setState({ kind: "error", message: e instanceof Error ? e.message : String(e) }),
    );
  }, [call]);
  useEffect(load, [load]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setCreated(await call<CreatedApiKey>("POST", "/api/api-keys", { name: name.trim(), scope }));
      setName("");
      load();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (key: ApiKey) => {
    setError(null);
    try {
      await call<void>("DELETE", `/api/api-keys/${encodeURIComponent(key.id)}`);
      load();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <main className="demo-page">
      <h1>Developer</h1>
      {user?.role === "admin" && (
        <p className="demo-notice">
          As an admin you also read the server's <Link to="/admin/outbox">mail outbox</Link>: password-reset and
          verification mails when no SMTP server is set.
        </p>
      )}
      <section aria-labelledby={`${ids}-keys`}>
        <h2 id={`${ids}-keys`}>API keys</h2>
        <p>
          A key lets your site's backend call this server: an <strong>upload</strong> key only mints upload tokens for
          browser uploads; a <strong>full</strong> key also lists, edits and deletes your videos.
        </p>
        <form onSubmit={create} aria-label="Create an API key">
          <label htmlFor={`${ids}-name`}>Name</label>
          <input
            id={`${ids}-name`}
            className="rk-input"
            value={name}
            maxLength={100}
            required
            onChange={(e) => setName(e.target.value)}
          />
          <label htmlFor={`${ids}-scope`}>Scope</label>
          <select id={`${ids}-scope`} value={scope} onChange={(e) => setScope(e.target.value as ApiKeyScope)}>
            <option value="upload">upload: mint upload tokens only</option>
            <option value="full">full: act as you</option>
          </select>
          <button type="submit" className="demo-button" disabled={busy || !name.trim()}>
            Create key
          </button>
        </form>
        {created && (
          <div role="status" className="demo-new-key">
            <p>
              Your new key <strong>{created.name}</strong>. Copy it now: it is not shown again.
            </p>
            <code>{created.key}</code>
          </div>
        )}
        {error && <p role="alert">{error}</p>}
        {state.kind === "loading" && <p>Loading…</p>}
        {state.kind === "error" && <p role="alert">{state.message}</p>}
        {state.kind === "loaded" &&
          (state.keys.length === 0 ? (
            <p>No keys yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span className="rk-visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {state.keys.map((k) => (
                  <tr key={k.id}>
                    <td>{k.name}</td>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td>{k.scope}</td>
                    <td>{k.lastUsedAt ? new Date(k.lastUsedAt).toLocaleString("en") : "never"}</td>
                    <td>
                      {k.revokedAt ? (
                        "revoked"
                      ) : (
                        <button
                          type="button"
                          className="demo-button demo-button--plain"
                          aria-label={`Revoke ${k.name}`}
                          onClick={() => void revoke(k)}
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
      </section>
      <WebhooksPanel client={client} />
    </main>
  );
}
