/**
 * Typed client for the Reelkit catalog API. Request and response types come from the TypeBox
 * schemas in `contract.ts`, the same ones the server validates with.
 */
import type {
  AnimatedQuery,
  CaptionKind,
  CaptionTrack,
  CaptionTrackList,
  Channel,
  Chapter,
  ChapterList,
  EmbedLink,
  ListVideosQuery,
  Suggestions,
  ThumbnailQuery,
  UpdateChannelBody,
  UpdateVideoBody,
  Video,
  VideoList,
} from "./contract.js";
import { ReelkitApiError } from "./errors.js";

export interface ReelkitClientOptions {
  /** Server origin (and optional path prefix), e.g. "https://video.example.com". */
  baseUrl: string;
  /** Returns a bearer token for each request; return null/undefined to send none. */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** A fetch implementation; defaults to the global one. */
  fetch?: typeof fetch;
}

/** List query: sort, cursor, limit and filters; `tags` may be an array (sent comma-separated). */
export type ListOptions = Omit<ListVideosQuery, "q" | "tags"> & { tags?: string | string[] };
export type SearchOptions = ListOptions & { q: string };

export interface RequestOptions {
  signal?: AbortSignal;
}

/** A text track to add: the file (WebVTT or SRT) and how the player lists it. */
export interface AddCaptionInput {
  /** BCP 47 tag, e.g. "en" or "pt-BR"; replaces the video's track in that language. */
  language: string;
  label?: string;
  kind?: CaptionKind;
  default?: boolean;
  /** The file's text or bytes. */
  file: string | Blob;
  /** "srt" for SubRip; by default the type of a Blob, else WebVTT when the text starts with "WEBVTT". */
  format?: "vtt" | "srt";
}

export interface ReelkitClient {
  readonly baseUrl: string;
  list(query?: ListOptions, options?: RequestOptions): Promise<VideoList>;
  search(query: SearchOptions, options?: RequestOptions): Promise<VideoList>;
  /** Search-box typeahead: titles starting with `prefix`. */
  suggest(prefix: string, limit?: number, options?: RequestOptions): Promise<string[]>;
  get(id: string, options?: RequestOptions): Promise<Video>;
  update(id: string, patch: UpdateVideoBody, options?: RequestOptions): Promise<Video>;
  delete(id: string, options?: RequestOptions): Promise<void>;
  /**
   * Counts a view: one per playback session. `session` is a random id the player makes once per
   * session (`newViewSession()`); the server counts repeats of it once.
   */
  recordView(id: string, session: string, options?: RequestOptions): Promise<void>;
  /**
   * The video's embed link and `<iframe>` snippet; a PRIVATE video's (its owner or an admin only)
   * carries a token that expires after `expiresIn` seconds (default 30 days).
   */
  embedLink(id: string, query?: { expiresIn?: number }, options?: RequestOptions): Promise<EmbedLink>;
  /** READY PUBLIC videos related to this one (shared tags, then title words), best first. */
  related(id: string, query?: { limit?: number }, options?: RequestOptions): Promise<VideoList>;
  /** A channel by its handle; its videos are `list({ owner: channel.id })`. */
  channel(handle: string, options?: RequestOptions): Promise<Channel>;
  /** The signed-in user's own channel. */
  myChannel(options?: RequestOptions): Promise<Channel>;
  /** Changes the signed-in user's channel name, description or handle. */
  updateChannel(patch: UpdateChannelBody, options?: RequestOptions): Promise<Channel>;
  /** Sets the signed-in user's avatar from a JPEG, PNG, WebP or GIF image (the server resizes it). */
  setAvatar(image: Blob, options?: RequestOptions): Promise<Channel>;
  removeAvatar(options?: RequestOptions): Promise<Channel>;
  /** The video's text tracks. */
  captions(id: string, options?: RequestOptions): Promise<CaptionTrack[]>;
  /** Adds or replaces the track of one language (SRT is converted to WebVTT); its owner only. */
  addCaption(id: string, input: AddCaptionInput, options?: RequestOptions): Promise<CaptionTrack>;
  deleteCaption(id: string, language: string, options?: RequestOptions): Promise<void>;
  chapters(id: string, options?: RequestOptions): Promise<Chapter[]>;
  /** Replaces the chapters (sorted by start, inside the duration); `[]` removes them. */
  setChapters(id: string, chapters: Chapter[], options?: RequestOptions): Promise<Chapter[]>;
  /**
   * The URL of the video as an MP4 file (`quality`: a rendition's name; the top one by default),
   * for a link in a page signed in by cookie. Its owner can always download; others when the
   * owner turned `downloads` on.
   */
  downloadUrl(id: string, query?: { quality?: string }): string;
  /** The video as an MP4 file, fetched with this client's token. */
  download(id: string, query?: { quality?: string }, options?: RequestOptions): Promise<Blob>;
  /** Absolute URL for a server path such as "/api/uploads". */
  url(path: string): string;
  /** Authorization headers for the current token (used by the uploader and the watcher). */
  authHeaders(): Promise<Record<string, string>>;
  /** The fetch implementation this client uses. */
  readonly fetch: typeof fetch;
}

export function createReelkitClient(options: ReelkitClientOptions): ReelkitClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  // Bind so that a global fetch is not called with a foreign `this` (browsers reject that).
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  const url = (path: string) => `${baseUrl}${path.startsWith("/") ? path : `/${path}`}`;

  const authHeaders = async (): Promise<Record<string, string>> => {
    const token = await options.getToken?.();
    return token ? { authorization: `Bearer ${token}` } : {};
  };

  async function request<T>(
    method: string,
    path: string,
    init: { body?: unknown; raw?: { body: string | Blob; type: string }; signal?: AbortSignal } = {},
  ) {
    const headers: Record<string, string> = { accept: "application/json", ...(await authHeaders()) };
    if (init.body !== undefined) headers["content-type"] = "application/json";
    if (init.raw) headers["content-type"] = init.raw.type;
    const response = await doFetch(url(path), {
      method,
      headers,
      body: init.raw ? init.raw.body : init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    });
    if (!response.ok) throw await toApiError(response);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  const videoPath = (id: string) => `/api/videos/${encodeURIComponent(id)}`;

  return {
    baseUrl,
    fetch: doFetch,
    url,
    authHeaders,
    list: (query = {}, opts = {}) => request<VideoList>("GET", `/api/videos${toQueryString(query)}`, opts),
    search: (query, opts = {}) => request<VideoList>("GET", `/api/videos${toQueryString(query)}`, opts),
    suggest: async (prefix, limit, opts = {}) =>
      (await request<Suggestions>("GET", `/api/videos/suggestions${toQueryString({ q: prefix, limit })}`, opts))
        .suggestions,
    get: (id, opts = {}) => request<Video>("GET", videoPath(id), opts),
    update: (id, patch, opts = {}) => request<Video>("PATCH", videoPath(id), { ...opts, body: patch }),
    delete: async (id, opts = {}) => {
      await request<void>("DELETE", videoPath(id), opts);
    },
    recordView: async (id, session, opts = {}) => {
      await request<void>("POST", `${videoPath(id)}/views`, { ...opts, body: { session } });
    },
    embedLink: (id, query = {}, opts = {}) =>
      request<EmbedLink>("GET", `${videoPath(id)}/embed${toQueryString(query)}`, opts),
    related: (id, query = {}, opts = {}) =>
      request<VideoList>("GET", `${videoPath(id)}/related${toQueryString(query)}`, opts),
    channel: (handle, opts = {}) => request<Channel>("GET", `/api/channels/${encodeURIComponent(handle)}`, opts),
    myChannel: (opts = {}) => request<Channel>("GET", "/api/channels/me", opts),
    updateChannel: (patch, opts = {}) => request<Channel>("PATCH", "/api/channels/me", { ...opts, body: patch }),
    setAvatar: (image, opts = {}) =>
      request<Channel>("PUT", "/api/channels/me/avatar", {
        ...opts,
        raw: { body: image, type: image.type || "application/octet-stream" },
      }),
    removeAvatar: (opts = {}) => request<Channel>("DELETE", "/api/channels/me/avatar", opts),
    captions: async (id, opts = {}) =>
      (await request<CaptionTrackList>("GET", `${videoPath(id)}/captions`, opts)).items,
    addCaption: async (id, input, opts = {}) => {
      const query = toQueryString({ language: input.language, label: input.label, kind: input.kind });
      const flag = input.default === undefined ? "" : `&default=${input.default}`;
      const type = (await captionFormat(input)) === "srt" ? "application/x-subrip" : "text/vtt";
      return request<CaptionTrack>("POST", `${videoPath(id)}/captions${query}${flag}`, {
        ...opts,
        raw: { body: input.file, type },
      });
    },
    deleteCaption: async (id, language, opts = {}) => {
      await request<void>("DELETE", `${videoPath(id)}/captions/${encodeURIComponent(language)}`, opts);
    },
    chapters: async (id, opts = {}) => (await request<ChapterList>("GET", `${videoPath(id)}/chapters`, opts)).chapters,
    downloadUrl: (id, query = {}) => url(`${videoPath(id)}/download${toQueryString(query)}`),
    download: async (id, query = {}, opts = {}) => {
      const response = await doFetch(url(`${videoPath(id)}/download${toQueryString(query)}`), {
        headers: await authHeaders(),
        signal: opts.signal,
      });
      if (!response.ok) throw await toApiError(response);
      return response.blob();
    },
    setChapters: async (id, chapters, opts = {}) =>
      (await request<ChapterList>("PUT", `${videoPath(id)}/chapters`, { ...opts, body: { chapters } })).chapters,
  };
}

async function captionFormat(input: AddCaptionInput): Promise<"vtt" | "srt"> {
  if (input.format) return input.format;
  if (typeof input.file !== "string" && /subrip|srt/i.test(input.file.type)) return "srt";
  if (typeof input.file !== "string" && /vtt/i.test(input.file.type)) return "vtt";
  const head = typeof input.file === "string" ? input.file.slice(0, 16) : await input.file.slice(0, 16).text();
  return head.replace(/^\uFEFF/, "").startsWith("WEBVTT") ? "vtt" : "srt";
}

/** A random playback-session id for `recordView` (works outside secure contexts too). */
export function newViewSession(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function toQueryString(query: Record<string, string | number | boolean | string[] | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, raw] of Object.entries(query)) {
    const value = Array.isArray(raw) ? raw.join(",") : raw;
    if (value === true) params.set(key, "1");
    else if (value !== undefined && value !== "" && value !== false) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function toApiError(response: Response): Promise<ReelkitApiError> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (body.error && typeof body.error.code === "string") {
      return new ReelkitApiError({
        status: response.status,
        code: body.error.code,
        message: typeof body.error.message === "string" ? body.error.message : response.statusText,
      });
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): fall through to a generic error.
  }
  return new ReelkitApiError({
    status: response.status,
    code: "HTTP_ERROR",
    message: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`,
  });
}

/**
 * A frame of a READY video at any time (`thumbnail.jpg`, or `.webp`), from its `thumbnailUrl`
 * (signed for a PRIVATE video); null before READY. Widths and heights: 64 to 1920 in the
 * server's fixed steps (docs/media-features.md).
 */
export function thumbnailUrl(
  video: Pick<Video, "thumbnailUrl">,
  query: ThumbnailQuery & { format?: "jpg" | "webp" } = {},
): string | null {
  if (!video.thumbnailUrl) return null;
  const { format = "jpg", ...rest } = query;
  return `${video.thumbnailUrl.replace(/thumbnail\.jpg$/, `thumbnail.${format}`)}${toQueryString(rest)}`;
}

/** A looping animated WebP of a READY video (at most 10 s), for hover previews; null before READY. */
export function animatedPreviewUrl(video: Pick<Video, "thumbnailUrl">, query: AnimatedQuery = {}): string | null {
  if (!video.thumbnailUrl) return null;
  return `${video.thumbnailUrl.replace(/thumbnail\.jpg$/, "animated.webp")}${toQueryString(query)}`;
}
