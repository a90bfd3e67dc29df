/**
 * Starts the example site: `REELKIT_URL=… REELKIT_API_KEY=rk_… npm start` after `npm run build`.
 * Without REELKIT_WEBHOOK_SECRET it registers its own webhook endpoint (SITE_URL/webhooks/reelkit,
 * which the Reelkit server must be able to reach) and keeps the secret in data.json.
 */
import { fileURLToPath } from "node:url";
import { createReelkitServer } from "@reelkit/sdk/server";
import { buildSite, registerWebhook, SiteStore } from "./site.js";

const reelkitUrl = process.env.REELKIT_URL ?? "http://localhost:3000";
const apiKey = process.env.REELKIT_API_KEY;
if (!apiKey)
  throw new Error("REELKIT_API_KEY is required (create one on the Developer page or with `reelkit keys create`)");
const port = Number(process.env.PORT ?? 5174);
const siteUrl = process.env.SITE_URL ?? `http://localhost:${port}`;

const store = new SiteStore(fileURLToPath(new URL("../data.json", import.meta.url)));
const site = buildSite({
  reelkitUrl,
  apiKey,
  webhookSecret: process.env.REELKIT_WEBHOOK_SECRET,
  store,
  pageDir: fileURLToPath(new URL("../dist/", import.meta.url)),
});
await site.listen({ port, host: "0.0.0.0" });
if (!process.env.REELKIT_WEBHOOK_SECRET && !store.data.webhookSecret) {
  await registerWebhook(createReelkitServer({ baseUrl: reelkitUrl, apiKey }), store, `${siteUrl}/webhooks/reelkit`);
}
console.log(`Example site on ${siteUrl}, using Reelkit at ${reelkitUrl}`);
