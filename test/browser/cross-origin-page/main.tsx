// A third-party page that embeds the kit the way the README shows, talking to a Reelkit server
// on another origin (named in `?server=`, so one build serves every test server).
import { ReelkitProvider, Uploader } from "@reelkit/react";
import { createReelkitClient, type ReelkitClient } from "@reelkit/sdk";
import "@reelkit/react/styles.css";
import { createRoot } from "react-dom/client";

const server = new URLSearchParams(window.location.search).get("server");
if (!server) throw new Error("?server= is required");
const client = createReelkitClient({ baseUrl: server });

declare global {
  interface Window {
    kit: { client: ReelkitClient; created: string[]; ready: string[]; errors: string[] };
  }
}
window.kit = { client, created: [], ready: [], errors: [] };

const root = document.getElementById("root");
if (!root) throw new Error("no #root");
createRoot(root).render(
  <ReelkitProvider client={client}>
    <Uploader
      onCreated={(id) => window.kit.created.push(id)}
      onReady={(id) => window.kit.ready.push(id)}
      onError={(err) => window.kit.errors.push(err.message)}
    />
  </ReelkitProvider>,
);
