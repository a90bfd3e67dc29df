import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` proxies the API and media to a local Reelkit server (`npm start`, port 3000),
// so the demo talks to the same origin in development as it does when the server hosts it.
const target = process.env.REELKIT_DEV_SERVER ?? "http://localhost:3000";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": { target, changeOrigin: true },
      "/media": { target, changeOrigin: true },
    },
  },
  // hls.js (~600 kB) is already split into its own chunk, loaded only by the player.
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 700 },
});
