import { useReelkitClient, useVideos } from "@reelkit/react";
import { type Channel, HANDLE_PATTERN, ReelkitApiError } from "@reelkit/sdk";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { ChannelAvatar } from "../components/channel-avatar.js";
import { LinkedText } from "../components/linked-text.js";
import { VideoGrid } from "../components/video-grid.js";
import { formatDate } from "../format.js";
import { useSession } from "../session.js";
import { useDocumentTitle } from "../use-document-title.js";

type ChannelState = { kind: "loading" } | { kind: "loaded"; channel: Channel } | { kind: "error"; error: Error };

/** `/c/:handle`: a user's channel — name, avatar, description and public videos. */
export function ChannelPage({ pageSize }: { pageSize: number }) {
  const { handle = "" } = useParams();
  const client = useReelkitClient();
  const [state, setState] = useState<ChannelState>({ kind: "loading" });
  useDocumentTitle(state.kind === "loaded" ? state.channel.name : "Channel");

  useEffect(() => {
    const controller = new AbortController();
    setState({ kind: "loading" });
    client.channel(handle, controller).then(
      (channel) => setState({ kind: "loaded", channel }),
      (error: unknown) => {
        if (!controller.signal.aborted) {
          setState({ kind: "error", error: error instanceof Error ? error : new Error(String(error)) });
        }
      },
    );
    return () => controller.abort();
  }, [client, handle]);

  if (state.kind === "loading") {
    return (
      <p role="status" className="demo-muted">
        Loading…
      </p>
    );
  }
  if (state.kind === "error") {
    const missing = state.error instanceof ReelkitApiError && state.error.status === 404;
    return (
      <section aria-labelledby="channel-heading">
        <h1 id="channel-heading">{missing ? "Channel not found" : "Could not load this channel"}</h1>
        <p role="alert">{missing ? `There is no channel @${handle}.` : state.error.message}</p>
        <p>
          <Link to="/">Browse all videos</Link>
        </p>
      </section>
    );
  }
  return (
    <ChannelView
      channel={state.channel}
      pageSize={pageSize}
      onChange={(c) => setState({ kind: "loaded", channel: c })}
    />
  );
}

function ChannelView({
  channel,
  pageSize,
  onChange,
}: {
  channel: Channel;
  pageSize: number;
  onChange: (channel: Channel) => void;
}) {
  const { user } = useSession();
  const navigate = useNavigate();
  const [editing, setEditing] = useState(false);
  const videos = useVideos({ owner: channel.id, limit: pageSize });
  const own = user?.id === channel.id;
  return (
    <section aria-labelledby="channel-heading">
      <header className="demo-channel-head">
        <ChannelAvatar channel={channel} size={80} />
        <div>
          <h1 id="channel-heading">{channel.name}</h1>
          <p className="demo-muted">
            @{channel.handle}
            <span aria-hidden="true"> · </span>
            <span className="demo-visually-hidden">, </span>
            Joined <time dateTime={channel.createdAt}>{formatDate(channel.createdAt)}</time>
          </p>
        </div>
      </header>
      {channel.description && (
        <p className="demo-description">
          <LinkedText text={channel.description} />
        </p>
      )}
      {own && !editing && (
        <div className="demo-actions">
          <button type="button" className="demo-button demo-button--plain" onClick={() => setEditing(true)}>
            Edit channel
          </button>
          <Link to="/mine" className="demo-button demo-button--plain">
            My videos
          </Link>
        </div>
      )}
      {own && editing && (
        <ChannelEditForm
          channel={channel}
          onDone={(changed) => {
            setEditing(false);
            if (!changed) return;
            onChange(changed);
            if (changed.handle !== channel.handle) navigate(`/c/${changed.handle}`, { replace: true });
          }}
        />
      )}
      <h2>Videos</h2>
      <VideoGrid
        result={videos}
        empty={<p>{own ? <Link to="/upload">Upload your first video</Link> : "No public videos yet."}</p>}
      />
    </section>
  );
}

/** The owner's form: name, handle, description and avatar. */
function ChannelEditForm({ channel, onDone }: { channel: Channel; onDone: (changed: Channel | null) => void }) {
  const client = useReelkitClient();
  const ids = useId();
  const [name, setName] = useState(channel.name);
  const [handle, setHandle] = useState(channel.handle);
  const [description, setDescription] = useState(channel.description);
  const [current, setCurrent] = useState(channel);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [avatarNote, setAvatarNote] = useState<string | null>(null);
  const nameInput = useRef<HTMLInputElement>(null);
  useEffect(() => nameInput.current?.focus(), []);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const save = (e: FormEvent) => {
    e.preventDefault();
    const wanted = handle.trim().toLowerCase();
    if (!new RegExp(HANDLE_PATTERN).test(wanted)) {
      setError("A handle is 3–30 characters: lower-case letters, digits, - and _, starting with a letter or digit.");
      return;
    }
    void run(async () => {
      onDone(await client.updateChannel({ name: name.trim(), handle: wanted, description }));
    });
  };
  const upload = (file: File | undefined) => {
    if (!file) return;
    void run(async () => {
      const changed = await client.setAvatar(file);
      setCurrent(changed);
      setAvatarNote("Avatar updated.");
    });
  };
  const removeAvatar = () =>
    run(async () => {
      setCurrent(await client.removeAvatar());
      setAvatarNote("Avatar removed.");
    });

  return (
    <form className="demo-edit" onSubmit={save} aria-label="Edit channel">
      <label htmlFor={`${ids}-name`}>Name</label>
      <input
        id={`${ids}-name`}
        ref={nameInput}
        className="rk-input"
        required
        maxLength={100}
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
      <label htmlFor={`${ids}-handle`}>Handle</label>
      <input
        id={`${ids}-handle`}
        className="rk-input"
        required
        minLength={3}
        maxLength={30}
        autoCapitalize="none"
        spellCheck={false}
        aria-describedby={`${ids}-handle-hint`}
        value={handle}
        onChange={(e) => setHandle(e.target.value)}
      />
      <p id={`${ids}-handle-hint`} className="demo-field-hint">
        Your channel's address: /c/{handle.trim().toLowerCase() || "…"}. Changing it breaks links to the old one.
      </p>
      <label htmlFor={`${ids}-description`}>Description</label>
      <textarea
        id={`${ids}-description`}
        className="rk-input"
        maxLength={1000}
        rows={3}
        value={description}
        onChange={(e) => setDescription(e.target.value)}
      />
      <fieldset className="demo-avatar-field">
        <legend>Avatar</legend>
        <ChannelAvatar channel={current} size={64} />
        <label htmlFor={`${ids}-avatar`}>Choose an image</label>
        <input
          id={`${ids}-avatar`}
          type="file"
          accept="image/jpeg,image/png,image/webp,image/gif"
          aria-describedby={`${ids}-avatar-hint`}
          disabled={busy}
          onChange={(e) => upload(e.target.files?.[0])}
        />
        <p id={`${ids}-avatar-hint`} className="demo-field-hint">
          JPEG, PNG, WebP or GIF up to 5 MB; cropped to a square.
        </p>
        {current.avatarUrl && (
          <button type="button" className="demo-button demo-button--plain" disabled={busy} onClick={removeAvatar}>
            Remove avatar
          </button>
        )}
        {avatarNote && (
          <p role="status" className="demo-muted">
            {avatarNote}
          </p>
        )}
      </fieldset>
      <div className="demo-actions">
        <button type="submit" className="demo-button" disabled={busy || !name.trim()}>
          Save
        </button>
        <button
          type="button"
          className="demo-button demo-button--plain"
          onClick={() => onDone(current === channel ? null : current)}
        >
          Cancel
        </button>
      </div>
      {error && (
        <p role="alert" className="demo-error">
          {error}
        </p>
      )}
    </form>
  );
}
