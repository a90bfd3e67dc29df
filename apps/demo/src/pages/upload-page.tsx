import { Uploader, useReelkitClient } from "@reelkit/react";
import type { Visibility } from "@reelkit/sdk";
import { type FormEvent, useCallback, useRef, useState } from "react";
import { Link } from "react-router";
import { parseTags, TagsField, tagsProblem, VisibilityField } from "../components/video-fields.js";
import { useDocumentTitle } from "../use-document-title.js";

/**
 * Visibility and tags of the video being uploaded. The uploader sends the file (title from its
 * name); these are set on the video as soon as the server has created it, and again whenever
 * they are saved afterwards.
 */
function useUploadDetails() {
  const client = useReelkitClient();
  const [visibility, setVisibility] = useState<Visibility>("PUBLIC");
  const [tags, setTags] = useState("");
  const [note, setNote] = useState<{ error: boolean; text: string } | null>(null);
  const latest = useRef({ visibility, tags });
  latest.current = { visibility, tags };
  const apply = useCallback(
    async (videoId: string, always: boolean) => {
      const { visibility: v, tags: t } = latest.current;
      const list = parseTags(t);
      const problem = tagsProblem(list);
      if (problem) {
        setNote({ error: true, text: problem });
        return;
      }
      if (!always && v === "PUBLIC" && list.length === 0) return;
      try {
        await client.update(videoId, { visibility: v, tags: list });
        setNote({ error: false, text: "Details saved." });
      } catch (err) {
        setNote({ error: true, text: `Could not save the details: ${err instanceof Error ? err.message : err}` });
      }
    },
    [client],
  );
  return { visibility, setVisibility, tags, setTags, note, apply };
}

export function UploadPage() {
  useDocumentTitle("Upload");
  const [videoId, setVideoId] = useState<string | null>(null);
  const [uploaded, setUploaded] = useState(false);
  const [ready, setReady] = useState(false);
  // A new key remounts <Uploader> empty for the next file.
  const [round, setRound] = useState(0);
  const details = useUploadDetails();
  const { apply } = details;
  // The server names the video (owned by the signed-in user) when it creates the upload, so
  // "My videos" lists it from then on, even an upload abandoned halfway.
  const onCreated = useCallback(
    (id: string) => {
      setVideoId(id);
      void apply(id, false);
    },
    [apply],
  );
  const saveDetails = (e: FormEvent) => {
    e.preventDefault();
    if (videoId) void apply(videoId, true);
  };
  // Every byte is on the server (the video is queued).
  const onUploaded = useCallback((id: string) => {
    setVideoId(id);
    setUploaded(true);
  }, []);
  // A cancelled upload will never play; it stays under "My videos", where it can be deleted.
  const onCancel = useCallback(() => {
    setVideoId(null);
    setUploaded(false);
    setReady(false);
  }, []);
  const onReady = useCallback(() => setReady(true), []);

  return (
    <section aria-labelledby="upload-heading" className="demo-upload">
      <h1 id="upload-heading">Upload a video</h1>
      <form className="demo-edit demo-upload-details" aria-label="Video details" onSubmit={saveDetails}>
        <VisibilityField value={details.visibility} onChange={details.setVisibility} />
        <TagsField value={details.tags} onChange={details.setTags} />
        {videoId && (
          <div className="demo-actions">
            <button type="submit" className="demo-button demo-button--plain">
              Save details
            </button>
          </div>
        )}
        {details.note && (
          <p
            role={details.note.error ? "alert" : "status"}
            className={details.note.error ? "demo-error" : "demo-muted"}
          >
            {details.note.text}
          </p>
        )}
      </form>
      <Uploader key={round} onCreated={onCreated} onUploaded={onUploaded} onReady={onReady} onCancel={onCancel} />
      {videoId && (
        <p className="demo-upload-next">
          <Link to={`/watch/${videoId}`} className="demo-button">
            Watch
          </Link>{" "}
          <span className="demo-muted">
            {ready
              ? "It is ready to play."
              : uploaded
                ? "It plays as soon as processing is done."
                : "It plays once the upload and processing are done."}{" "}
            It is also listed under “My videos”.
          </span>
          {/* While bytes are still being sent, the uploader's own Cancel is the way out. */}
          {uploaded && (
            <button
              type="button"
              className="demo-button demo-button--plain"
              onClick={() => {
                onCancel();
                setRound((r) => r + 1);
              }}
            >
              Add another video
            </button>
          )}
        </p>
      )}
    </section>
  );
}
