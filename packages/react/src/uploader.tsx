import type { Visibility } from "@reelkit/sdk";
import { type DragEvent, type FormEvent, useEffect, useId, useRef, useState } from "react";
import { formatBytes, formatEta } from "./format.js";
import { acceptsFile, canRetryUpload, uploadErrorMessage, waitingInLine } from "./upload-messages.js";
import { ChoicesFields, DEFAULT_UPLOAD_CONCURRENCY, parseTags, UploadQueue } from "./upload-queue.js";
import { type UploadState, type UseUploadOptions, useUpload } from "./use-upload.js";

/** `onCreated` (from UseUploadOptions) gives the id as soon as the upload exists on the server. */
export interface UploaderProps extends UseUploadOptions {
  /** Every byte is on the server; the video is queued for processing. */
  onUploaded?: (videoId: string) => void;
  onReady?: (videoId: string) => void;
  onError?: (error: Error) => void;
  /** The user cancelled the upload (it is terminated on the server) and the form is empty again. */
  onCancel?: () => void;
  /** Content types or extensions offered and checked before uploading (`video/*` by default). */
  accept?: string;
  /** Largest file accepted, in bytes, checked before uploading (the server's upload token enforces its own). */
  maxSize?: number;
  className?: string;
  /**
   * Several files at once: each gets its own row (progress, pause, cancel, retry, processing)
   * and `concurrency` of them send bytes at a time, the others wait as "Queued".
   */
  multiple?: boolean;
  /** Files uploading at once with `multiple` (3 by default). */
  concurrency?: number;
  /** Offer a visibility picker (Public, Unlisted, Private; Unlisted first chosen). */
  chooseVisibility?: boolean;
  /** Offer a tags field (comma-separated). */
  chooseTags?: boolean;
  /**
   * Mux's name for the token getter: called once per upload with the file and the choices made
   * (title, visibility, tags), it returns the upload token your backend minted for them. Same as
   * `getToken`, which wins when both are given.
   */
  endpoint?: UseUploadOptions["getToken"];
}

/** Drag-and-drop or pick a file, upload it with progress, then follow processing until ready. */
export function Uploader({ multiple, concurrency, endpoint, ...props }: UploaderProps) {
  const getToken = props.getToken ?? endpoint;
  if (multiple) {
    return (
      <UploadQueue
        {...props}
        getToken={getToken}
        accept={props.accept ?? "video/*"}
        concurrency={concurrency ?? DEFAULT_UPLOAD_CONCURRENCY}
        chooseVisibility={props.chooseVisibility ?? false}
        chooseTags={props.chooseTags ?? false}
      />
    );
  }
  return <SingleUploader {...props} getToken={getToken} />;
}

function SingleUploader({
  onUploaded,
  onReady,
  onError,
  onCancel,
  accept = "video/*",
  maxSize,
  className,
  chooseVisibility,
  chooseTags,
  ...options
}: Omit<UploaderProps, "multiple" | "concurrency" | "endpoint">) {
  const upload = useUpload(options);
  const [visibility, setVisibility] = useState<Visibility>("UNLISTED");
  const [tags, setTags] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [dragging, setDragging] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const reported = useRef<string>("");

  useEffect(() => {
    const key = `${upload.phase}:${upload.videoId}`;
    if (key === reported.current) return;
    reported.current = key;
    if (upload.phase === "processing" && upload.videoId) onUploaded?.(upload.videoId);
    if (upload.phase === "done" && upload.videoId) onReady?.(upload.videoId);
    if ((upload.phase === "error" || upload.phase === "failed") && upload.error) onError?.(upload.error);
  }, [upload.phase, upload.videoId, upload.error, onUploaded, onReady, onError]);

  const pick = (f: File) => {
    // Checked here so that a wrong file fails at once, not after its bytes were sent.
    if (!acceptsFile(f, accept)) {
      setNotice(`${f.name} is not a file this form accepts (${accept}).`);
      return;
    }
    if (maxSize !== undefined && f.size > maxSize) {
      setNotice(`${f.name} is ${formatBytes(f.size)}; the largest file accepted is ${formatBytes(maxSize)}.`);
      return;
    }
    setNotice(null);
    setFile(f);
    if (!title) setTitle(f.name.replace(/\.[^.]+$/, ""));
  };
  const reset = () => {
    upload.cancel();
    setFile(null);
    setTitle("");
    setDescription("");
    setNotice(null);
  };

  return (
    <UploaderView
      state={upload}
      fileName={file?.name ?? null}
      title={title}
      description={description}
      dragging={dragging}
      notice={notice}
      accept={accept}
      className={className}
      onPick={pick}
      onTitleChange={setTitle}
      onDescriptionChange={setDescription}
      onDraggingChange={setDragging}
      visibility={visibility}
      onVisibilityChange={chooseVisibility ? setVisibility : undefined}
      tags={tags}
      onTagsChange={chooseTags ? setTags : undefined}
      onSubmit={() => {
        if (!file) return;
        void upload.start(file, {
          title,
          description,
          ...(chooseVisibility && { visibility }),
          ...(chooseTags && { tags: parseTags(tags) }),
        });
      }}
      onPause={() => void upload.pause()}
      onResume={upload.resume}
      onCancel={() => {
        upload.cancel();
        onCancel?.();
      }}
      onRetry={upload.retry}
      onReset={reset}
    />
  );
}

export interface UploaderViewProps {
  state: Pick<UploadState, "phase" | "progress" | "processingProgress" | "error"> &
    Partial<Pick<UploadState, "transcodePhase" | "queuePosition">>;
  /** The chosen file's name, or null before one is picked (the Upload button is disabled). */
  fileName: string | null;
  title: string;
  description: string;
  /** A file is being dragged over the drop zone. */
  dragging: boolean;
  /** Why the file just picked was not taken (its type or size), shown by the drop zone. */
  notice?: string | null;
  accept?: string;
  className?: string;
  onPick: (file: File) => void;
  onTitleChange: (title: string) => void;
  onDescriptionChange: (description: string) => void;
  onDraggingChange: (dragging: boolean) => void;
  onSubmit: () => void;
  onPause: () => void;
  onResume: () => void;
  onCancel: () => void;
  onRetry: () => void;
  /** Back to an empty form, to upload another file. */
  onReset?: () => void;
  /** The visibility picker, shown when `onVisibilityChange` is given. */
  visibility?: Visibility;
  onVisibilityChange?: (visibility: Visibility) => void;
  /** The tags field (comma-separated), shown when `onTagsChange` is given. */
  tags?: string;
  onTagsChange?: (tags: string) => void;
}

/**
 * The markup of <Uploader> for a given state, with no upload logic. <Uploader> renders through
 * it; Storybook and custom state machines can render any state directly.
 */
export function UploaderView(props: UploaderViewProps) {
  const { state, fileName, title, description, dragging, accept = "video/*", className } = props;
  const ids = useId();
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    props.onDraggingChange(false);
    const f = e.dataTransfer.files[0];
    if (f) props.onPick(f);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    props.onSubmit();
  };

  const busy = state.phase !== "idle";
  const p = state.progress;
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
              props.onDraggingChange(true);
            }}
            onDragLeave={() => props.onDraggingChange(false)}
            onDrop={onDrop}
            data-testid="rk-dropzone"
          >
            <span>{fileName ?? "Drop a video here or choose a file"}</span>
            <input
              className="rk-visually-hidden"
              type="file"
              accept={accept}
              aria-label="Choose a video file"
              onChange={(e) => {
                const f = e.target.files?.[0];
                if (f) props.onPick(f);
              }}
            />
          </label>
          {props.notice && (
            <p className="rk-upload-notice" role="alert">
              {props.notice}
            </p>
          )}
          <label htmlFor={`${ids}-title`}>Title</label>
          <input
            id={`${ids}-title`}
            className="rk-input"
            value={title}
            onChange={(e) => props.onTitleChange(e.target.value)}
          />
          <label htmlFor={`${ids}-desc`}>Description</label>
          <textarea
            id={`${ids}-desc`}
            className="rk-input"
            value={description}
            onChange={(e) => props.onDescriptionChange(e.target.value)}
          />
          <ChoicesFields
            visibility={props.visibility}
            onVisibilityChange={props.onVisibilityChange}
            tags={props.tags}
            onTagsChange={props.onTagsChange}
          />
          <button type="submit" className="rk-button" disabled={!fileName}>
            Upload
          </button>
        </>
      )}
      {(state.phase === "uploading" || state.phase === "paused") && (
        <div className="rk-upload-progress">
          <progress className="rk-progress" aria-label="Upload progress" max={100} value={p?.percent ?? 0} />
          <span className="rk-upload-stats" aria-live="polite">
            {state.phase === "paused"
              ? `Paused · ${Math.floor(p?.percent ?? 0)}%`
              : `${Math.floor(p?.percent ?? 0)}% · ${formatBytes(p?.speedBps ?? 0)}/s · ETA ${formatEta(p?.etaSeconds ?? null)}`}
          </span>
          {state.phase === "uploading" ? (
            <button type="button" className="rk-button" onClick={props.onPause}>
              Pause
            </button>
          ) : (
            <button type="button" className="rk-button" onClick={props.onResume}>
              Resume
            </button>
          )}
          <button type="button" className="rk-button" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      )}
      {state.phase === "processing" && (
        <>
          {/* Every byte is on the server: the upload bar stays, full, above the processing one. */}
          <div className="rk-upload-progress">
            <progress className="rk-progress" aria-label="Upload progress" max={100} value={100} />
            <span className="rk-upload-stats">Uploaded · 100%</span>
          </div>
          <div className="rk-upload-progress">
            <progress
              className="rk-progress"
              aria-label="Processing progress"
              max={100}
              value={state.processingProgress}
            />
            <span aria-live="polite">
              {state.transcodePhase === "queued" && state.queuePosition ? (
                `${waitingInLine(state.queuePosition)}…`
              ) : (
                <>
                  {state.transcodePhase === "ladder" ? "Playable — more qualities coming… " : "Processing… "}
                  {Math.floor(state.processingProgress)}%
                </>
              )}
            </span>
          </div>
        </>
      )}
      {state.phase === "done" && (
        <div className="rk-upload-done">
          <p role="status">Your video is ready.</p>
          {props.onReset && (
            <button type="button" className="rk-button" onClick={props.onReset}>
              Upload another
            </button>
          )}
        </div>
      )}
      {state.phase === "error" && (
        <div className="rk-upload-error" role="alert">
          <span>Upload failed: {state.error ? uploadErrorMessage(state.error) : "unknown error"}</span>
          {(!state.error || canRetryUpload(state.error)) && (
            <button type="button" className="rk-button" onClick={props.onRetry}>
              Retry
            </button>
          )}
          <button type="button" className="rk-button" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      )}
      {state.phase === "failed" && (
        // The upload itself succeeded: retrying it cannot help; another file might.
        <div className="rk-upload-error" role="alert">
          <span>Uploaded, but the video could not be processed: {state.error?.message ?? "unknown reason"}</span>
          {props.onReset && (
            <button type="button" className="rk-button" onClick={props.onReset}>
              Upload another
            </button>
          )}
        </div>
      )}
    </form>
  );
}
