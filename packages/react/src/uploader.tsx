import { type DragEvent, type FormEvent, useEffect, useId, useRef, useState } from "react";
import { formatBytes, formatEta } from "./format.js";
import { type UseUploadOptions, useUpload } from "./use-upload.js";

export interface UploaderProps extends UseUploadOptions {
  onUploaded?: (videoId: string) => void;
  onReady?: (videoId: string) => void;
  onError?: (error: Error) => void;
  accept?: string;
  className?: string;
}

/** Drag-and-drop or pick a file, upload it with progress, then follow processing until ready. */
export function Uploader({ onUploaded, onReady, onError, accept = "video/*", className, ...options }: UploaderProps) {
  const upload = useUpload(options);
  const [file, setFile] = useState<File | null>(null);
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [dragging, setDragging] = useState(false);
  const ids = useId();
  const reported = useRef<string>("");

  useEffect(() => {
    const key = `${upload.phase}:${upload.videoId}`;
    if (key === reported.current) return;
    reported.current = key;
    if (upload.phase === "processing" && upload.videoId) onUploaded?.(upload.videoId);
    if (upload.phase === "done" && upload.videoId) onReady?.(upload.videoId);
    if (upload.phase === "error" && upload.error) onError?.(upload.error);
  }, [upload.phase, upload.videoId, upload.error, onUploaded, onReady, onError]);

  const pick = (f: File | undefined) => {
    if (!f) return;
    setFile(f);
    if (!title) setTitle(f.name.replace(/\.[^.]+$/, ""));
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    pick(e.dataTransfer.files[0]);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (file) void upload.start(file, { title, description });
  };

  const busy = upload.phase !== "idle";
  const p = upload.progress;
  return (
    <form
      className={["rk-uploader", className].filter(Boolean).join(" ")}
      onSubmit={submit}
      aria-label="Upload a video"
    >
      {!busy && (
        <>
          <label
            className={`rk-dropzone${dragging ? " rk-dropzone--dragging" : ""}`}
            onDragOver={(e) => {
              e.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={onDrop}
            data-testid="rk-dropzone"
          >
            <span>{file ? file.name : "Drop a video here or choose a file"}</span>
            <input
              className="rk-visually-hidden"
              type="file"
              accept={accept}
              aria-label="Choose a video file"
              onChange={(e) => pick(e.target.files?.[0])}
            />
          </label>
          <label htmlFor={`${ids}-title`}>Title</label>
          <input id={`${ids}-title`} className="rk-input" value={title} onChange={(e) => setTitle(e.target.value)} />
          <label htmlFor={`${ids}-desc`}>Description</label>
          <textarea
            id={`${ids}-desc`}
            className="rk-input"
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
          <button type="submit" className="rk-button" disabled={!file}>
            Upload
          </button>
        </>
      )}
      {(upload.phase === "uploading" || upload.phase === "paused") && (
        <div className="rk-upload-progress">
          <progress className="rk-progress" aria-label="Upload progress" max={100} value={p?.percent ?? 0} />
          <span className="rk-upload-stats" aria-live="polite">
            {Math.floor(p?.percent ?? 0)}% · {formatBytes(p?.speedBps ?? 0)}/s · ETA {formatEta(p?.etaSeconds ?? null)}
          </span>
          {upload.phase === "uploading" ? (
            <button type="button" className="rk-button" onClick={() => void upload.pause()}>
              Pause
            </button>
          ) : (
            <button type="button" className="rk-button" onClick={upload.resume}>
              Resume
            </button>
          )}
          <button type="button" className="rk-button" onClick={upload.cancel}>
            Cancel
          </button>
        </div>
      )}
      {upload.phase === "processing" && (
        <div className="rk-upload-progress">
          <progress
            className="rk-progress"
            aria-label="Processing progress"
            max={100}
            value={upload.processingProgress}
          />
          <span aria-live="polite">Processing… {Math.floor(upload.processingProgress)}%</span>
        </div>
      )}
      {upload.phase === "done" && (
        <p className="rk-upload-done" role="status">
          Your video is ready.
        </p>
      )}
      {upload.phase === "error" && (
        <div className="rk-upload-error" role="alert">
          <span>Upload failed: {upload.error?.message}</span>
          <button type="button" className="rk-button" onClick={upload.retry}>
            Retry
          </button>
          <button type="button" className="rk-button" onClick={upload.cancel}>
            Cancel
          </button>
        </div>
      )}
    </form>
  );
}
