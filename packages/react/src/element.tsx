import { createReelkitClient, type ReelkitClient } from "@reelkit/sdk";
import { createRoot, type Root } from "react-dom/client";
import { ReelkitProvider } from "./context.js";
import styles from "./styles.css?inline";
import { VideoPlayer, type VideoPlayerHandle, type VideoPlayerProps } from "./video-player.js";

/**
 * `<reelkit-player>`: `<VideoPlayer>` as a custom element for pages without React. It renders
 * the same React player (the one core behind `<VideoPlayer>`, this element and `/embed/:id`)
 * into its shadow root, with the kit's styles adopted there, so the page's CSS and the
 * player's do not meet.
 *
 * Importing this module defines the element when the browser has `customElements`; on a server
 * it only exports (nothing touches `HTMLElement` or `customElements` at import).
 */

/** The attributes the element reads; a change re-renders the player. */
export const PLAYER_ATTRIBUTES = [
  "video-id",
  "src",
  "base-url",
  "autoplay",
  "muted",
  "loop",
  "start-time",
  "controls",
  "poster",
  "title",
  "accent-color",
] as const;

/** Media events re-dispatched on the element (they do not cross the shadow root by themselves). */
const FORWARDED = {
  onLoadedMetadata: "loadedmetadata",
  onPlay: "play",
  onPlaying: "playing",
  onPause: "pause",
  onTimeUpdate: "timeupdate",
  onSeeked: "seeked",
  onVolumeChange: "volumechange",
  onEnded: "ended",
  onError: "error",
} as const satisfies Partial<Record<keyof VideoPlayerProps, string>>;

/** What a `<reelkit-player>` offers a script besides its attributes. */
export interface ReelkitPlayerElement extends HTMLElement {
  /** The `<video>` inside the shadow root (null before it renders). */
  readonly media: HTMLVideoElement | null;
  play(): Promise<void>;
  pause(): void;
  currentTime: number;
  readonly duration: number;
  readonly paused: boolean;
  muted: boolean;
}

/** The player's props from the element's attributes. */
export function propsFromAttributes(
  read: (name: (typeof PLAYER_ATTRIBUTES)[number]) => string | null,
): VideoPlayerProps {
  const on = (name: (typeof PLAYER_ATTRIBUTES)[number]) => {
    const v = read(name);
    return v !== null && v !== "false" && v !== "0";
  };
  const autoplay = read("autoplay");
  const muted = on("muted");
  const start = Number(read("start-time"));
  return {
    videoId: read("video-id") ?? undefined,
    src: read("src") ?? undefined,
    poster: read("poster") ?? undefined,
    title: read("title") ?? undefined,
    accentColor: read("accent-color") ?? undefined,
    autoPlay: on("autoplay") ? (autoplay === "muted" || muted ? "muted" : "any") : false,
    muted,
    loop: on("loop"),
    controls: read("controls") === null || on("controls"),
    startTime: Number.isFinite(start) && start > 0 ? start : undefined,
  };
}

function defineClass(): CustomElementConstructor {
  return class ReelkitPlayer extends HTMLElement implements ReelkitPlayerElement {
    static observedAttributes = [...PLAYER_ATTRIBUTES];
    #root: Root | null = null;
    #client: ReelkitClient | null = null;
    #clientBase = "";
    #handle: VideoPlayerHandle | null = null;

    connectedCallback() {
      if (!this.#root) {
        const shadow = this.shadowRoot ?? this.attachShadow({ mode: "open" });
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(`:host{display:block}\n${styles}`);
        shadow.adoptedStyleSheets = [sheet];
        const mount = document.createElement("div");
        shadow.replaceChildren(mount);
        this.#root = createRoot(mount);
      }
      this.#render();
    }

    disconnectedCallback() {
      // Moving the element in the page disconnects and reconnects it: unmount only if it stays out.
      queueMicrotask(() => {
        if (this.isConnected || !this.#root) return;
        this.#root.unmount();
        this.#root = null;
      });
    }

    attributeChangedCallback() {
      if (this.#root) this.#render();
    }

    #render() {
      const base = this.getAttribute("base-url") || window.location.origin;
      if (!this.#client || base !== this.#clientBase) {
        this.#client = createReelkitClient({ baseUrl: base });
        this.#clientBase = base;
      }
      const events = Object.fromEntries(
        Object.entries(FORWARDED).map(([prop, type]) => [prop, () => this.dispatchEvent(new Event(type))]),
      );
      const props = propsFromAttributes((name) => this.getAttribute(name));
      this.#root?.render(
        <ReelkitProvider client={this.#client}>
          <VideoPlayer
            key={props.videoId ?? props.src ?? ""}
            {...props}
            {...events}
            ref={(handle) => {
              this.#handle = handle;
            }}
          />
        </ReelkitProvider>,
      );
    }

    get media() {
      return this.#handle?.media ?? null;
    }
    play() {
      return this.#handle ? this.#handle.play() : Promise.reject(new Error("reelkit-player: not rendered yet"));
    }
    pause() {
      this.#handle?.pause();
    }
    get currentTime() {
      return this.#handle?.currentTime ?? 0;
    }
    set currentTime(t: number) {
      if (this.#handle) this.#handle.currentTime = t;
    }
    get duration() {
      return this.#handle?.duration ?? Number.NaN;
    }
    get paused() {
      return this.#handle?.paused ?? true;
    }
    get muted() {
      return this.#handle?.muted ?? false;
    }
    set muted(value: boolean) {
      if (this.#handle) this.#handle.muted = value;
    }
  };
}

/**
 * Defines `<reelkit-player>` (or `tagName`) once; a no-op where there is no `customElements`
 * (a server rendering the page) or when the name is taken.
 */
export function defineReelkitPlayer(tagName = "reelkit-player"): void {
  if (typeof customElements === "undefined" || customElements.get(tagName)) return;
  customElements.define(tagName, defineClass());
}

defineReelkitPlayer();

declare global {
  interface HTMLElementTagNameMap {
    "reelkit-player": ReelkitPlayerElement;
  }
}
