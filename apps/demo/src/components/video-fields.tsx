import { useReelkitClient } from "@reelkit/react";
import type { Video, Visibility } from "@reelkit/sdk";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";

export const VISIBILITY_LABEL: Record<Visibility, string> = {
  PUBLIC: "Public",
  UNLISTED: "Unlisted",
  PRIVATE: "Private",
};

/** At most this many tags per video, each at most TAG_MAX_LENGTH characters (the server's limits). */
export const MAX_TAGS = 20;
export const TAG_MAX_LENGTH = 40;

/** Tags as typed (comma-separated) → the list the server stores: trimmed, lower-case, no duplicates. */
export function parseTags(text: string): string[] {
  const tags = text
    .split(",")
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  return [...new Set(tags)];
}

/** Why these tags would be refused, or null. */
export function tagsProblem(tags: readonly string[]): string | null {
  if (tags.length > MAX_TAGS) return `At most ${MAX_TAGS} tags.`;
  const long = tags.find((t) => t.length > TAG_MAX_LENGTH);
  return long ? `“${long.slice(0, 20)}…” is too long: a tag has at most ${TAG_MAX_LENGTH} characters.` : null;
}

export function VisibilityField({ value, onChange }: { value: Visibility; onChange: (v: Visibility) => void }) {
  const id = useId();
  return (
    <>
      <label htmlFor={id}>Visibility</label>
      <select id={id} className="rk-input" value={value} onChange={(e) => onChange(e.target.value as Visibility)}>
        <option value="PUBLIC">Public: listed and searchable</option>
        <option value="UNLISTED">Unlisted: anyone with the link</option>
        <option value="PRIVATE">Private: only you</option>
      </select>
    </>
  );
}

export function TagsField({ value, onChange }: { value: string; onChange: (text: string) => void }) {
  const id = useId();
  return (
    <>
      <label htmlFor={id}>Tags</label>
      <input
        id={id}
        className="rk-input"
        value={value}
        autoComplete="off"
        aria-describedby={`${id}-hint`}
        onChange={(e) => onChange(e.target.value)}
      />
      <p id={`${id}-hint`} className="demo-field-hint">
        Separated by commas, e.g. “cats, timelapse”. Up to {MAX_TAGS}.
      </p>
    </>
  );
}

/** Title, description, visibility and tags of one video, saved with `PATCH /api/videos/:id`. */
export function VideoEditForm({
  video,
  onSaved,
  onCancel,
}: {
  video: Video;
  onSaved: (video: Video) => void;
  onCancel: () => void;
}) {
  const client = useReelkitClient();
  const ids = useId();
  const [title, setTitle] = useState(video.title);
  const [description, setDescription] = useState(video.description);
  const [visibility, setVisibility] = useState<Visibility>(video.visibility);
  const [tags, setTags] = useState(video.tags.join(", "));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const titleInput = useRef<HTMLInputElement>(null);
  useEffect(() => titleInput.current?.focus(), []);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    const list = parseTags(tags);
    const problem = tagsProblem(list);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSaved(await client.update(video.id, { title: title.trim(), description, visibility, tags: list }));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="demo-edit" onSubmit={save} aria-label={`Edit ${video.title || "Untitled"}`}>
      <label htmlFor={`${ids}-title`}>Title</label>
      <input
        id={`${ids}-title`}
        ref={titleInput}
        className="rk-input"
        required
        maxLength={200}
        value={title}
        onChange={(e) => setTitle(e.target.value)}
      />
      <label htmlFor={`${ids}-description`}>Description</label>
      <textarea
        id={`${ids}-description`}
        className="rk-input"
        maxLength={5000}
        rows={3}
        value={description}
        onChange={(e) => setDescription(e.target.value)}
      />
      <VisibilityField value={visibility} onChange={setVisibility} />
      <TagsField value={tags} onChange={setTags} />
      <div className="demo-actions">
        <button type="submit" className="demo-button" disabled={busy || !title.trim()}>
          Save
        </button>
        <button type="button" className="demo-button demo-button--plain" onClick={onCancel}>
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
