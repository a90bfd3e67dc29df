import { createReelkitClient } from "@reelkit/sdk";
import "@reelkit/react/styles.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.js";

async function main() {
  // Where Reelkit runs comes from this site's backend, so one build serves every deployment.
  const config = (await (await fetch("/api/config")).json()) as { reelkitUrl: string };
  // No getToken here: the page holds no API key and no session; each upload gets its own token.
  const client = createReelkitClient({ baseUrl: config.reelkitUrl });
  const root = document.getElementById("root");
  if (!root) throw new Error("no #root element");
  createRoot(root).render(
    <StrictMode>
      <App client={client} />
    </StrictMode>,
  );
}
void main();
