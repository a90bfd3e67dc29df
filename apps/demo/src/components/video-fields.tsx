import { useReelkitClient } from "@reelkit/react";
import type { CaptionTrack, Chapter, Video, Visibility } from "@reelkit/sdk";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { mediaUrl } from "../media-url.js";

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

/** "1:02.5" or "62.5" (seconds) → seconds; null when it is neither. */
export function parseTime(text: string): number | null {
  const m = /^\s*(?:(\d+):)?(\d+(?:\.\d+)?)\s*$/.exec(text);
  if (!m) return null;
  const minutes = m[1] === undefined ? 0 : Number(m[1]);
  const seconds = Number(m[2]);
  if (m[1] !== undefined && seconds >= 60) return null;
  return minutes * 60 + seconds;
}

/** Seconds → "m:ss.s" as the chapter editor shows them. */
export function formatTime(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = (seconds - m * 60).toFixed(1).replace(/\.0$/, "");
  return `${m}:${s.padStart(s.includes(".") ? 4 : 2, "0")}`;
}

interface ChapterRow {
  key: number;
  title: string;
  start: string;
}

/** The edited chapter rows as the API's list, or why they would be refused. */
export function chaptersOf(rows: readonly ChapterRow[], duration: number | null): Chapter[] | string {
  const out: Chapter[] = [];
  for (const [i, row] of rows.entries()) {
    const startTime = parseTime(row.start);
    if (!row.title.trim()) return `Chapter ${i + 1} needs a title.`;
    if (startTime === null) return `Chapter ${i + 1}: write its start as m:ss or seconds.`;
    if (duration !== null && startTime >= duration) return `Chapter ${i + 1} starts after the video ends.`;
    const before = out[out.length - 1];
    if (before && startTime <= before.startTime) return `Chapter ${i + 1} must start after chapter ${i}.`;
    out.push({ title: row.title.trim(), startTime });
  }
  return out;
}

/** Title, description, visibility, tags, downloads, poster frame and chapters of one video. */
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
  const [downloads, setDownloads] = useState(video.downloads);
  const ready = video.status === "READY";
  const [posterText, setPosterText] = useState(video.posterTime == null ? "" : String(video.posterTime));
  const [chapterRows, setChapterRows] = useState<ChapterRow[]>(() =>
    video.chapters.map((c, key) => ({ key, title: c.title, start: formatTime(c.startTime) })),
  );
  const nextKey = useRef(video.chapters.length);
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
    const chapters = chaptersOf(chapterRows, video.duration);
    if (typeof chapters === "string") {
      setError(chapters);
      return;
    }
    const posterTime = posterText.trim() === "" ? null : parseTime(posterText);
    if (posterText.trim() !== "" && posterTime === null) {
      setError("Write the poster's time as m:ss or seconds.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const saved = await client.update(video.id, {
        title: title.trim(),
        description,
        visibility,
        tags: list,
        downloads,
        ...(ready && posterTime !== (video.posterTime ?? null) ? { posterTime } : {}),
      });
      if (ready && JSON.stringify(chapters) !== JSON.stringify(video.chapters)) {
        await client.setChapters(video.id, chapters);
        onSaved(await client.get(video.id));
      } else onSaved(saved);
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
      <label className="demo-check">
        <input type="checkbox" checked={downloads} onChange={(e) => setDownloads(e.target.checked)} /> Let viewers
        download this video as an MP4
      </label>
      {ready && (
        <>
          <PosterField video={video} value={posterText} onChange={setPosterText} />
          <fieldset className="demo-chapters">
            <legend>Chapters</legend>
            {chapterRows.length === 0 && <p className="demo-field-hint">No chapters.</p>}
            {chapterRows.map((row, i) => (
              <div key={row.key} className="demo-chapter-row">
                <input
                  className="rk-input"
                  aria-label={`Chapter ${i + 1} start`}
                  value={row.start}
                  inputMode="decimal"
                  onChange={(e) =>
                    setChapterRows((rows) => rows.map((r) => (r.key === row.key ? { ...r, start: e.target.value } : r)))
                  }
                />
                <input
                  className="rk-input"
                  aria-label={`Chapter ${i + 1} title`}
                  maxLength={200}
                  value={row.title}
                  onChange={(e) =>
                    setChapterRows((rows) => rows.map((r) => (r.key === row.key ? { ...r, title: e.target.value } : r)))
                  }
                />
                <button
                  type="button"
                  className="demo-button demo-button--plain"
                  aria-label={`Remove chapter ${i + 1}`}
                  onClick={() => setChapterRows((rows) => rows.filter((r) => r.key !== row.key))}
                >
                  Remove
                </button>
              </div>
            ))}
            <button
              type="button"
              className="demo-button demo-button--plain"
              onClick={() => {
                const last = chaptersOf(chapterRows, null);
                const after = typeof last === "string" || last.length === 0 ? 0 : (last.at(-1)?.startTime ?? 0) + 10;
                setChapterRows((rows) => [...rows, { key: nextKey.current++, title: "", start: formatTime(after) }]);
              }}
            >
              Add chapter
            </button>
          </fieldset>
          <CaptionsField video={video} />
        </>
      )}
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

/** The poster: the frame at a time the owner types, previewed as they type; empty for the default. */
function PosterField({ video, value, onChange }: { video: Video; value: string; onChange: (text: string) => void }) {
  const client = useReelkitClient();
  const id = useId();
  const time = value.trim() === "" ? null : parseTime(value);
  const inside = time !== null && video.duration !== null && time < video.duration;
  const preview =
    inside && video.thumbnailUrl
      ? mediaUrl(client, `${video.thumbnailUrl}?time=${time.toFixed(1)}&width=320`)
      : mediaUrl(client, video.posterUrl);
  return (
    <>
      <label htmlFor={id}>Poster frame</label>
      <input
        id={id}
        className="rk-input"
        value={value}
        inputMode="decimal"
        placeholder="The default poster"
        aria-describedby={`${id}-hint`}
        onChange={(e) => onChange(e.target.value)}
      />
      <p id={`${id}-hint`} className="demo-field-hint">
        The time of the frame to show before playing, as m:ss or seconds
        {video.duration !== null && ` (under ${formatTime(video.duration)})`}; empty for the default.
      </p>
      {preview && <img className="demo-poster-preview" src={preview} alt="Poster preview" width={160} />}
      {value.trim() !== "" && !inside && (
        <p className="demo-error">{time === null ? "Not a time." : "After the end of the video."}</p>
      )}
    </>
  );
}

/** Text tracks: listed, added from a .vtt or .srt file (replacing that language's), deleted. */
function CaptionsField({ video }: { video: Video }) {
  const client = useReelkitClient();
  const ids = useId();
  const [tracks, setTracks] = useState<CaptionTrack[]>(video.captions);
  const [language, setLanguage] = useState("");
  const [label, setLabel] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setMessage(null);
    try {
      await work();
    } catch (err) {
      setMessage(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const add = () =>
    run(async () => {
      if (!file || !language.trim()) return;
      const track = await client.addCaption(video.id, {
        language: language.trim(),
        label: label.trim() || undefined,
        file,
        format: /\.srt$/i.test(file.name) ? "srt" : /\.vtt$/i.test(file.name) ? "vtt" : undefined,
      });
      setTracks((list) => [...list.filter((t) => t.language !== track.language), track]);
      setLanguage("");
      setLabel("");
      setFile(null);
      if (fileInput.current) fileInput.current.value = "";
    });
  const remove = (lang: string) =>
    run(async () => {
      await client.deleteCaption(video.id, lang);
      setTracks((list) => list.filter((t) => t.language !== lang));
    });

  return (
    <fieldset className="demo-captions">
      <legend>Captions and subtitles</legend>
      {tracks.length === 0 ? (
        <p className="demo-field-hint">No text tracks.</p>
      ) : (
        <ul aria-label="Text tracks">
          {tracks.map((t) => (
            <li key={t.language}>
              {t.label} ({t.language}, {t.cueCount} cues){" "}
              <button
                type="button"
                className="demo-button demo-button--plain"
                disabled={busy}
                aria-label={`Delete ${t.label}`}
                onClick={() => remove(t.language)}
              >
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
      <label htmlFor={`${ids}-file`}>Caption file (.vtt or .srt)</label>
      <input
        id={`${ids}-file`}
        ref={fileInput}
        type="file"
        accept=".vtt,.srt,text/vtt,application/x-subrip"
        onChange={(e) => setFile(e.target.files?.[0] ?? null)}
      />
      <label htmlFor={`${ids}-language`}>Language</label>
      <input
        id={`${ids}-language`}
        className="rk-input"
        value={language}
        placeholder="en, fr, pt-BR…"
        maxLength={35}
        onChange={(e) => setLanguage(e.target.value)}
      />
      <label htmlFor={`${ids}-label`}>Label</label>
      <input
        id={`${ids}-label`}
        className="rk-input"
        value={label}
        placeholder="English"
        maxLength={100}
        onChange={(e) => setLabel(e.target.value)}
      />
      <button
        type="button"
        className="demo-button demo-button--plain"
        disabled={busy || !file || !language.trim()}
        onClick={add}
      >
        Add track
      </button>
      {message && (
        <p role="alert" className="demo-error">
          {message}
        </p>
      )}
    </fieldset>
  );
}
