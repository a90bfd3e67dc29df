import "@reelkit/react/styles.css";
import "./embed.css";
import { ReelkitProvider } from "@reelkit/react";
import { createReelkitClient } from "@reelkit/sdk";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { embedOptions } from "./embed-options.js";
import { EmbedPage } from "./embed-page.js";

const options = embedOptions(window.location);
const root = document.getElementById("root");
if (!root) throw new Error("embed.html has no #root element");

/**
 * A PRIVATE video's embed token goes with every request about that video (the video, its status
 * events, its view): the frame has no session of its owner.
 */
function withEmbedToken(videoId: string, token: string | null): typeof fetch {
  return (input, init) => {
    if (!token) return globalThis.fetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input), window.location.href);
    if (url.pathname.startsWith(`/api/videos/${encodeURIComponent(videoId)}`)) url.searchParams.set("token", token);
    return globalThis.fetch(input instanceof Request ? new Request(url, input) : url, init);
  };
}

if (!options) {
  root.textContent = "No video in this address.";
} else {
  const client = createReelkitClient({
    baseUrl: import.meta.env.VITE_REELKIT_URL || window.location.origin,
    fetch: withEmbedToken(options.videoId, options.token),
  });
  createRoot(root).render(
    <StrictMode>
      <ReelkitProvider client={client}>
        <EmbedPage options={options} />
      </ReelkitProvider>
    </StrictMode>,
  );
}
