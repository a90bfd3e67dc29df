import { Uploader } from "@reelkit/react";
import { useCallback, useState } from "react";
import { Link } from "react-router";
import { useDocumentTitle } from "../use-document-title.js";

export function UploadPage() {
  useDocumentTitle("Upload");
  const [videoId, setVideoId] = useState<string | null>(null);
  const [uploaded, setUploaded] = useState(false);
  const [ready, setReady] = useState(false);
  // A new key remounts <Uploader> empty for the next file.
  const [round, setRound] = useState(0);
  // The server names the video (owned by the signed-in user) when it creates the upload, so
  // "My videos" lists it from then on, even an upload abandoned halfway.
  const onCreated = useCallback((id: string) => {
    setVideoId(id);
  }, []);
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
