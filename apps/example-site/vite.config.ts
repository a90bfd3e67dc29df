import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run build` writes dist/, which the site's backend (server/main.ts) serves.
export default defineConfig({ plugins: [react()] });
