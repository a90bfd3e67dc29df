// A third-party page that embeds the kit the way docs/kit.md shows, talking to a Reelkit server
// on another origin (named in `?server=`, so one build serves every test server), as the user
// whose bearer token is in `?token=` (a third-party site gets one from its own backend).
import { ReelkitProvider, Uploader } from "@reelkit/react";
import { createReelkitClient, type ReelkitClient } from "@reelkit/sdk";
import "@reelkit/react/styles.css";
import { createRoot } from "react-dom/client";

const params = new URLSearchParams(window.location.search);
const server = params.get("server");
if (!server) throw new Error("?server= is required");
const token = params.get("token");
const client = createReelkitClient({ baseUrl: server, getToken: () => token });

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
