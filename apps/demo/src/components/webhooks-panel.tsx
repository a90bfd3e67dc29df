import type { ReelkitClient } from "@reelkit/sdk";
import {
  type CreatedWebhookEndpoint,
  WEBHOOK_EVENT_TYPES,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookEventType,
} from "@reelkit/sdk/contract";
import { type FormEvent, useCallback, useEffect, useId, useState } from "react";

/** JSON from the server's `/api/webhooks` routes, as the signed-in user (cookie or token). */
async function call<T>(client: ReelkitClient, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json", ...(await client.authHeaders()) };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await client.fetch(client.url(path), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "include",
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new Error(json?.error?.message ?? `HTTP ${res.status}`);
  return json as T;
}

/**
 * The signed-in user's webhook endpoints: list them, add one (URL and event checkboxes; its
 * signing secret is shown once, right after), delete one, read its delivery log and redeliver.
 */
export function WebhooksPanel({ client }: { client: ReelkitClient }) {
  const [endpoints, setEndpoints] = useState<WebhookEndpoint[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedWebhookEndpoint | null>(null);
  const [openLog, setOpenLog] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setEndpoints((await call<{ items: WebhookEndpoint[] }>(client, "GET", "/api/webhooks")).items);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [client]);
  useEffect(() => {
    void load();
  }, [load]);

  const remove = async (id: string) => {
    setError(null);
    try {
      await call(client, "DELETE", `/api/webhooks/${id}`);
      if (created?.id === id) setCreated(null);
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <section className="webhooks-panel" aria-labelledby="webhooks-heading">
      <h2 id="webhooks-heading">Webhooks</h2>
      {error && <p role="alert">{error}</p>}
      <AddEndpointForm
        client={client}
        onCreated={async (endpoint) => {
          setCreated(endpoint);
          await load();
        }}
        onError={setError}
      />
      {created && (
        <div role="status" className="webhooks-secret">
          <p>Signing secret for {created.url} — copy it now, it is not shown again:</p>
          <label>
            Signing secret <input readOnly value={created.secret} onFocus={(e) => e.target.select()} />
          </label>
          <button type="button" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      {endpoints === null ? (
        <p>Loading…</p>
      ) : endpoints.length === 0 ? (
        <p>No webhook endpoints yet.</p>
      ) : (
        <ul aria-label="Webhook endpoints">
          {endpoints.map((e) => (
            <li key={e.id}>
              <strong>{e.url}</strong> <span>{e.events.join(", ")}</span>{" "}
              {!e.enabled && <em>Disabled: {e.disabledReason}</em>}
              <button type="button" onClick={() => setOpenLog(openLog === e.id ? null : e.id)}>
                {openLog === e.id ? "Hide deliveries" : "Deliveries"}
              </button>
              <button type="button" onClick={() => void remove(e.id)} aria-label={`Delete ${e.url}`}>
                Delete
              </button>
              {openLog === e.id && <DeliveryLog client={client} endpointId={e.id} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function AddEndpointForm(props: {
  client: ReelkitClient;
  onCreated: (endpoint: CreatedWebhookEndpoint) => Promise<void>;
  onError: (message: string | null) => void;
}) {
  const urlId = useId();
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<Set<WebhookEventType>>(new Set(["video.ready", "video.failed"]));
  const [busy, setBusy] = useState(false);

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    props.onError(null);
    setBusy(true);
    try {
      const endpoint = await call<CreatedWebhookEndpoint>(props.client, "POST", "/api/webhooks", {
        url: url.trim(),
        events: WEBHOOK_EVENT_TYPES.filter((t) => events.has(t)),
      });
      setUrl("");
      await props.onCreated(endpoint);
    } catch (err) {
      props.onError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(ev) => void submit(ev)} aria-label="Add a webhook endpoint">
      <label htmlFor={urlId}>Endpoint URL</label>
      <input id={urlId} type="url" required value={url} onChange={(e) => setUrl(e.target.value)} />
      <fieldset>
        <legend>Events</legend>
        {WEBHOOK_EVENT_TYPES.map((type) => (
          <label key={type}>
            <input
              type="checkbox"
              checked={events.has(type)}
              onChange={(e) => {
                const next = new Set(events);
                if (e.target.checked) next.add(type);
                else next.delete(type);
                setEvents(next);
              }}
            />
            {type}
          </label>
        ))}
      </fieldset>
      <button type="submit" disabled={busy || events.size === 0}>
        Add endpoint
      </button>
    </form>
  );
}

function DeliveryLog({ client, endpointId }: { client: ReelkitClient; endpointId: string }) {
  const [items, setItems] = useState<WebhookDelivery[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setItems(
        (await call<{ items: WebhookDelivery[] }>(client, "GET", `/api/webhooks/${endpointId}/deliveries?limit=20`))
          .items,
      );
    } catch (err) {
      setError((err as Error).message);
    }
  }, [client, endpointId]);
  useEffect(() => {
    void load();
  }, [load]);

  const redeliver = async (id: string) => {
    setError(null);
    try {
      await call(client, "POST", `/api/webhooks/${endpointId}/deliveries/${id}/redeliver`);
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  if (error) return <p role="alert">{error}</p>;
  if (items === null) return <p>Loading deliveries…</p>;
  if (items.length === 0) return <p>No deliveries yet.</p>;
  return (
    <table aria-label="Deliveries">
      <thead>
        <tr>
          <th>Event</th>
          <th>Status</th>
          <th>Attempts</th>
          <th>Last result</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {items.map((d) => (
          <tr key={d.id}>
            <td>
              {d.type} <small>{d.webhookId}</small>
            </td>
            <td>{d.status}</td>
            <td>{d.attempts}</td>
            <td>{d.lastError ?? (d.lastStatusCode === null ? "" : `HTTP ${d.lastStatusCode}`)}</td>
            <td>
              <button type="button" onClick={() => void redeliver(d.id)} aria-label={`Redeliver ${d.webhookId}`}>
                Redeliver
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
