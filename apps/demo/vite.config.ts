import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` proxies the API and media to a local Reelkit server (`npm start`, port 3000),
// so the demo talks to the same origin in development as it does when the server hosts it. The
// Host header is passed on as the browser sent it: the server takes the page's origin for its
// own and trusts it for sign-in and cookie-authenticated changes.
const target = process.env.REELKIT_DEV_SERVER ?? "http://localhost:3000";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": { target, changeOrigin: false },
      "/media": { target, changeOrigin: false },
    },
  },
  // hls.js (~600 kB) is already split into its own chunk, loaded only by the player.
  // Two pages: the site (index.html) and the player alone for iframes (embed.html, served by the
  // server at /embed/:id).
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 700,
    rollupOptions: {
      input: {
        main: fileURLToPath(new URL("./index.html", import.meta.url)),
        embed: fileURLToPath(new URL("./embed.html", import.meta.url)),
      },
    },
  },
});
