import type { Visibility } from "@reelkit/sdk";
import { type DragEvent, type FormEvent, useCallback, useEffect, useId, useRef, useState } from "react";
import { formatBytes, formatEta } from "./format.js";
import { acceptsFile, canRetryUpload, uploadErrorMessage, waitingInLine } from "./upload-messages.js";
import {
  type StartUploadOptions,
  type UploadPhase,
  type UploadState,
  type UseUploadOptions,
  useUpload,
} from "./use-upload.js";

/** Uploads that send bytes at the same time by default; the others wait their turn ("Queued"). */
export const DEFAULT_UPLOAD_CONCURRENCY = 3;

export interface UploadQueueCallbacks {
  /** Every byte of one file is on the server; its video is queued for processing. */
  onUploaded?: (videoId: string) => void;
  onReady?: (videoId: string) => void;
  onError?: (error: Error) => void;
}

/** The settings chosen at upload, for every file of a batch. */
export interface UploadChoices {
  visibility?: Visibility;
  tags?: string[];
}

/** Parses a comma-separated tags field: trimmed, lower-case, no empties or duplicates. */
export function parseTags(text: string): string[] {
  return [
    ...new Set(
      text
        .split(",")
        .map((t) => t.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
}

export interface ChoicesFieldsProps {
  /** Show the visibility picker (with these choices). */
  visibility?: Visibility;
  onVisibilityChange?: (visibility: Visibility) => void;
  /** Show the tags field (comma-separated text). */
  tags?: string;
  onTagsChange?: (tags: string) => void;
}

/** The visibility and tags pickers, each shown only when its change handler is given. */
export function ChoicesFields(props: ChoicesFieldsProps) {
  const ids = useId();
  return (
    <>
      {props.onVisibilityChange && (
        <>
          <label htmlFor={`${ids}-visibility`}>Visibility</label>
          <select
            id={`${ids}-visibility`}
            className="rk-input"
            value={props.visibility ?? "UNLISTED"}
            onChange={(e) => props.onVisibilityChange?.(e.target.value as Visibility)}
          >
            <option value="PUBLIC">Public</option>
            <option value="UNLISTED">Unlisted</option>
            <option value="PRIVATE">Private</option>
          </select>
        </>
      )}
      {props.onTagsChange && (
        <>
          <label htmlFor={`${ids}-tags`}>Tags</label>
          <input
            id={`${ids}-tags`}
            className="rk-input"
            placeholder="comma, separated"
            value={props.tags ?? ""}
            onChange={(e) => props.onTagsChange?.(e.target.value)}
          />
        </>
      )}
    </>
  );
}

export interface UploadItemViewProps {
  fileName: string;
  /** Waiting for a free slot (the queue's concurrency limit): nothing sent yet. */
  queued: boolean;
  state: Pick<UploadState, "phase" | "progress" | "processingProgress" | "error"> &
    Partial<Pick<UploadState, "transcodePhase" | "queuePosition">>;
  onPause: () => void;
  onResume: () => void;
  onCancel: () => void;
  onRetry: () => void;
}

/** One file of a multi-file upload: its name, its own progress and state, its own buttons. */
export function UploadItemView({ fileName, queued, state, ...on }: UploadItemViewProps) {
  const p = state.progress;
  const percent = Math.floor(p?.percent ?? 0);
  let status: string;
  if (queued) status = "Queued";
  else if (state.phase === "uploading")
    status = `${percent}% · ${formatBytes(p?.speedBps ?? 0)}/s · ETA ${formatEta(p?.etaSeconds ?? null)}`;
  else if (state.phase === "paused") status = `Paused · ${percent}%`;
  else if (state.phase === "processing" && state.transcodePhase === "queued" && state.queuePosition)
    status = `${waitingInLine(state.queuePosition)}…`;
  else if (state.phase === "processing")
    status = `${state.transcodePhase === "ladder" ? "Playable — more qualities coming…" : "Processing…"} ${Math.floor(state.processingProgress)}%`;
  else if (state.phase === "done") status = "Ready";
  else if (state.phase === "failed")
    status = `Uploaded, but the video could not be processed: ${state.error?.message ?? "unknown reason"}`;
  else if (state.phase === "error")
    status = `Upload failed: ${state.error ? uploadErrorMessage(state.error) : "unknown error"}`;
  else status = "Starting…";
  const bytesPhase = !queued && (state.phase === "uploading" || state.phase === "paused");
  const failing = state.phase === "error" || state.phase === "failed";
  return (
    <li className="rk-upload-item" data-phase={queued ? "queued" : state.phase}>
      <span className="rk-upload-item-name">{fileName}</span>
      <progress
        className="rk-progress"
        aria-label={`${state.phase === "processing" ? "Processing" : "Upload"} progress of ${fileName}`}
        max={100}
        value={state.phase === "processing" ? state.processingProgress : state.phase === "done" ? 100 : percent}
      />
      <span className="rk-upload-stats" role={failing ? "alert" : undefined} aria-live={failing ? undefined : "polite"}>
        {status}
      </span>
      {bytesPhase && state.phase === "uploading" && (
        <button type="button" className="rk-button" onClick={on.onPause} aria-label={`Pause ${fileName}`}>
          Pause
        </button>
      )}
      {bytesPhase && state.phase === "paused" && (
        <button type="button" className="rk-button" onClick={on.onResume} aria-label={`Resume ${fileName}`}>
          Resume
        </button>
      )}
      {state.phase === "error" && (!state.error || canRetryUpload(state.error)) && (
        <button type="button" className="rk-button" onClick={on.onRetry} aria-label={`Retry ${fileName}`}>
          Retry
        </button>
      )}
      {(queued || bytesPhase || state.phase === "error") && (
        <button type="button" className="rk-button" onClick={on.onCancel} aria-label={`Cancel ${fileName}`}>
          Cancel
        </button>
      )}
    </li>
  );
}

interface QueuedFile {
  key: number;
  file: File;
}

/** One file's upload, started once the queue gives it a slot. */
function UploadQueueItem({
  item,
  allowed,
  choices,
  options,
  callbacks,
  onPhase,
  onRemove,
}: {
  item: QueuedFile;
  allowed: boolean;
  choices: StartUploadOptions;
  options: UseUploadOptions;
  callbacks: UploadQueueCallbacks;
  onPhase: (key: number, phase: UploadPhase) => void;
  onRemove: (key: number) => void;
}) {
  const upload = useUpload(options);
  const started = useRef(false);
  const { start } = upload;
  useEffect(() => {
    if (!allowed || started.current) return;
    started.current = true;
    void start(item.file, choices);
    // Under StrictMode's remount the hook aborted that run: the next pass starts it afresh.
    return () => {
      started.current = false;
    };
  }, [allowed, start, item.file, choices]);
  useEffect(() => onPhase(item.key, upload.phase), [item.key, upload.phase, onPhase]);

  const reported = useRef("");
  const { onUploaded, onReady, onError } = callbacks;
  useEffect(() => {
    const key = `${upload.phase}:${upload.videoId}`;
    if (key === reported.current) return;
    reported.current = key;
    if (upload.phase === "processing" && upload.videoId) onUploaded?.(upload.videoId);
    if (upload.phase === "done" && upload.videoId) onReady?.(upload.videoId);
    if ((upload.phase === "error" || upload.phase === "failed") && upload.error) onError?.(upload.error);
  }, [upload.phase, upload.videoId, upload.error, onUploaded, onReady, onError]);

  return (
    <UploadItemView
      fileName={item.file.name}
      queued={upload.phase === "idle" && !allowed}
      state={upload}
      onPause={() => void upload.pause()}
      onResume={upload.resume}
      onCancel={() => {
        upload.cancel();
        onRemove(item.key);
      }}
      onRetry={upload.retry}
    />
  );
}

export interface UploadQueueProps extends UseUploadOptions, UploadQueueCallbacks {
  accept: string;
  maxSize?: number;
  /** Files sending bytes at once. */
  concurrency: number;
  chooseVisibility: boolean;
  chooseTags: boolean;
  className?: string;
}

/** Several files at once: picked together, uploaded through a queue, each with its own state. */
export function UploadQueue(props: UploadQueueProps) {
  const {
    accept,
    maxSize,
    concurrency,
    chooseVisibility,
    chooseTags,
    className,
    onUploaded,
    onReady,
    onError,
    ...options
  } = props;
  const [picked, setPicked] = useState<File[]>([]);
  const [items, setItems] = useState<QueuedFile[]>([]);
  const [phases, setPhases] = useState<Record<number, UploadPhase>>({});
  const [visibility, setVisibility] = useState<Visibility>("UNLISTED");
  const [tags, setTags] = useState("");
  const [choices, setChoices] = useState<StartUploadOptions>({});
  const [notice, setNotice] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const nextKey = useRef(0);

  const onPhase = useCallback(
    (key: number, phase: UploadPhase) => setPhases((p) => (p[key] === phase ? p : { ...p, [key]: phase })),
    [],
  );
  const onRemove = useCallback((key: number) => setItems((list) => list.filter((i) => i.key !== key)), []);

  const pick = (files: File[]) => {
    const refused: string[] = [];
    const taken = files.filter((f) => {
      if (!acceptsFile(f, accept)) refused.push(`${f.name} is not a file this form accepts (${accept}).`);
      else if (maxSize !== undefined && f.size > maxSize)
        refused.push(`${f.name} is ${formatBytes(f.size)}; the largest file accepted is ${formatBytes(maxSize)}.`);
      else return true;
      return false;
    });
    setNotice(refused.length > 0 ? refused.join(" ") : null);
    setPicked(taken);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (picked.length === 0) return;
    setChoices({
      ...(chooseVisibility && { visibility }),
      ...(chooseTags && { tags: parseTags(tags) }),
    });
    setItems((list) => [...list, ...picked.map((file) => ({ key: nextKey.current++, file }))]);
    setPicked([]);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    pick([...e.dataTransfer.files]);
  };

  // The first waiting files get the free slots; a file leaves its slot once its bytes are sent.
  const sending = items.filter((i) => phases[i.key] === "uploading" || phases[i.key] === "paused").length;
  const waiting = items.filter((i) => (phases[i.key] ?? "idle") === "idle");
  const allowed = new Set(waiting.slice(0, Math.max(0, concurrency - sending)).map((i) => i.key));
  const settled = items.every((i) => ["done", "failed", "error"].includes(phases[i.key] ?? "idle"));

  return (
    <form
      className={["rk-uploader", "rk-uploader--queue", className].filter(Boolean).join(" ")}
      onSubmit={submit}
      aria-label="Upload videos"
    >
      {settled && (
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
            <span>{picked.length > 0 ? picked.map((f) => f.name).join(", ") : "Drop videos here or choose files"}</span>
            <input
              className="rk-visually-hidden"
              type="file"
              multiple
              accept={accept}
              aria-label="Choose video files"
              onChange={(e) => pick([...(e.target.files ?? [])])}
            />
          </label>
          {notice && (
            <p className="rk-upload-notice" role="alert">
              {notice}
            </p>
          )}
          <ChoicesFields
            visibility={visibility}
            onVisibilityChange={chooseVisibility ? setVisibility : undefined}
            tags={tags}
            onTagsChange={chooseTags ? setTags : undefined}
          />
          <button type="submit" className="rk-button" disabled={picked.length === 0}>
            {picked.length > 1 ? `Upload ${picked.length} files` : "Upload"}
          </button>
        </>
      )}
      {items.length > 0 && (
        <ul className="rk-upload-list" aria-label="Uploads">
          {items.map((item) => (
            <UploadQueueItem
              key={item.key}
              item={item}
              allowed={allowed.has(item.key)}
              choices={choices}
              options={options}
              callbacks={{ onUploaded, onReady, onError }}
              onPhase={onPhase}
              onRemove={onRemove}
            />
          ))}
        </ul>
      )}
    </form>
  );
}
