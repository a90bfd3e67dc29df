import "@reelkit/react/styles.css";
import "./demo.css";
import { createReelkitClient } from "@reelkit/sdk";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { App } from "./app.js";

// Same origin by default: the Reelkit server hosts the built demo. VITE_REELKIT_URL points a
// build at another server (that server must allow this origin through REELKIT_CORS_ORIGINS).
const client = createReelkitClient({ baseUrl: import.meta.env.VITE_REELKIT_URL || window.location.origin });

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <BrowserRouter>
      <App client={client} />
    </BrowserRouter>
  </StrictMode>,
);
