/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Reelkit server origin when the demo is not served by it (e.g. "http://localhost:3000"). */
  readonly VITE_REELKIT_URL?: string;
}
