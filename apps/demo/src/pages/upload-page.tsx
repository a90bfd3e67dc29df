import { Uploader } from "@reelkit/react";
import { useCallback, useState } from "react";
import { Link } from "react-router";
import { rememberMyVideo } from "../my-videos-store.js";
import { useDocumentTitle } from "../use-document-title.js";

export function UploadPage() {
  useDocumentTitle("Upload");
  const [videoId, setVideoId] = useState<string | null>(null);
  // A new key remounts <Uploader> empty for the next file.
  const [round, setRound] = useState(0);
  // <Uploader> reports the id once every byte is on the server (the video is then queued).
  const onUploaded = useCallback((id: string) => {
    rememberMyVideo(id);
    setVideoId(id);
  }, []);

  return (
    <section aria-labelledby="upload-heading" className="demo-upload">
      <h1 id="upload-heading">Upload a video</h1>
      <Uploader key={round} onUploaded={onUploaded} />
      {videoId && (
        <p className="demo-upload-next">
          <Link to={`/watch/${videoId}`} className="demo-button">
            Watch
          </Link>{" "}
          <span className="demo-muted">
            It plays as soon as processing is done. It is also listed under “My videos”.
          </span>
          <button
            type="button"
            className="demo-button demo-button--plain"
            onClick={() => {
              setVideoId(null);
              setRound((r) => r + 1);
            }}
          >
            Add another video
          </button>
        </p>
      )}
    </section>
  );
}
