import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { EmbedLink, OEmbed, Video } from "@reelkit/sdk/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeQueuedVideo, makeReadyVideo, signUp, type TestUser } from "../../test/factories.js";
import { startTestApp, type TestApp } from "../../test/test-app.js";
import { fitSize } from "./embed.js";

// oEmbed, the owner's embed links (signed for PRIVATE videos) and the unfurl tags of watch pages,
// over HTTP against the real app on the embedded database.

const INDEX = '<!doctype html><html><head><title>Reelkit demo</title></head><body><div id="root"></div></body></html>';

let t: TestApp;
let owner: TestUser;
let publicId = "";
let unlistedId = "";
let privateId = "";
let queuedId = "";

beforeAll(async () => {
  const demoDir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "reelkit-embed-")), "dist");
  await fs.mkdir(demoDir, { recursive: true });
  await fs.writeFile(path.join(demoDir, "index.html"), INDEX);
  await fs.writeFile(path.join(demoDir, "embed.html"), "<!doctype html><title>player</title>");
  t = await startTestApp({ env: { REELKIT_DEMO_DIR: demoDir } });
  owner = await signUp(t.base);
  publicId = await makeReadyVideo(t.catalog, {
    title: 'Harbour <at> "dawn"',
    description: "Boats & <b>gulls</b>",
    ownerId: owner.id,
  });
  unlistedId = await makeReadyVideo(t.catalog, { title: "Unlisted", ownerId: owner.id, visibility: "UNLISTED" });
  privateId = await makeReadyVideo(t.catalog, { title: "Private", ownerId: owner.id, visibility: "PRIVATE" });
  queuedId = await makeQueuedVideo(t.catalog, { title: "Queued", ownerId: owner.id });
});

afterAll(async () => {
  await t?.close();
});

const oembed = (url: string, extra = "") => fetch(`${t.base}/api/oembed?url=${encodeURIComponent(url)}${extra}`);

describe("fitSize", () => {
  it("keeps the aspect ratio inside maxwidth and maxheight, never above the default width", () => {
    expect(fitSize({ aspect: 16 / 9 })).toEqual({ width: 640, height: 360 });
    expect(fitSize({ aspect: 16 / 9, naturalWidth: 320 })).toEqual({ width: 320, height: 180 });
    expect(fitSize({ aspect: 16 / 9, maxWidth: 400 })).toEqual({ width: 400, height: 225 });
    expect(fitSize({ aspect: 16 / 9, maxHeight: 90 })).toEqual({ width: 160, height: 90 });
    expect(fitSize({ aspect: 9 / 16, maxWidth: 500, maxHeight: 320 })).toEqual({ width: 180, height: 320 });
  });
});

describe("GET /api/oembed", () => {
  it("answers a watch URL of a READY public video with a video iframe of /embed/:id", async () => {
    const res = await oembed(`${t.base}/watch/${publicId}`, "&maxwidth=300&format=json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as OEmbed;
    expect(body).toMatchObject({
      type: "video",
      version: "1.0",
      title: 'Harbour <at> "dawn"',
      provider_name: "Reelkit",
      provider_url: `${t.base}/`,
      width: 300,
      height: 169,
      thumbnail_url: `${t.base}/media/videos/${publicId}/poster.jpg`,
    });
    expect(body.html).toBe(
      `<iframe src="${t.base}/embed/${publicId}" width="300" height="169" title="Harbour &lt;at&gt; &quot;dawn&quot;" ` +
        'frameborder="0" allow="autoplay; fullscreen; picture-in-picture; encrypted-media" allowfullscreen></iframe>',
    );
  });

  it("answers embed URLs and UNLISTED videos, within maxheight", async () => {
    const res = await oembed(`${t.base}/embed/${unlistedId}`, "&maxheight=90");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ title: "Unlisted", width: 160, height: 90 });
  });

  it("is 404 for private, unfinished, unknown and foreign URLs, 501 for xml", async () => {
    for (const url of [
      `${t.base}/watch/${privateId}`,
      `${t.base}/watch/${queuedId}`,
      `${t.base}/watch/00000000-0000-4000-8000-000000000000`,
      `https://elsewhere.example/watch/${publicId}`,
      `${t.base}/search?q=harbour`,
      "not a url",
    ]) {
      const res = await oembed(url);
      expect(res.status, url).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    }
    const xml = await oembed(`${t.base}/watch/${publicId}`, "&format=xml");
    expect(xml.status).toBe(501);
    expect(((await xml.json()) as { error: { code: string } }).error.code).toBe("NOT_IMPLEMENTED");
  });
});

describe("GET /api/videos/:id/embed", () => {
  it("gives anyone a public video's plain embed link", async () => {
    const res = await fetch(`${t.base}/api/videos/${publicId}/embed`);
    expect(res.status).toBe(200);
    const link = (await res.json()) as EmbedLink;
    expect(link.url).toBe(`${t.base}/embed/${publicId}`);
    expect(link.expiresAt).toBeNull();
    expect(link.html).toContain(`src="${t.base}/embed/${publicId}"`);
  });

  it("signs a PRIVATE video's link for its owner; the token reads that video and no other", async () => {
    expect((await fetch(`${t.base}/api/videos/${privateId}/embed`)).status).toBe(404);
    const res = await fetch(`${t.base}/api/videos/${privateId}/embed?expiresIn=3600`, { headers: owner.bearer });
    expect(res.status).toBe(200);
    const link = (await res.json()) as EmbedLink;
    const token = new URL(link.url).searchParams.get("token") ?? "";
    expect(token).toMatch(/^\d+\.[\w-]{43}$/);
    expect(Date.parse(link.expiresAt ?? "") - Date.now()).toBeGreaterThan(3500_000);
    expect(link.html).toContain(`token=${token}`);

    expect((await fetch(`${t.base}/api/videos/${privateId}`)).status).toBe(404);
    const read = await fetch(`${t.base}/api/videos/${privateId}?token=${encodeURIComponent(token)}`);
    expect(read.status).toBe(200);
    const video = (await read.json()) as Video;
    // Its media come signed, as they do for the owner.
    expect(video.playbackUrl).toMatch(new RegExp(`/media/s/[^/]+/videos/${privateId}/hls/master.m3u8$`));
    expect(read.headers.get("cache-control")).toBe("private, no-store");

    const other = await makeReadyVideo(t.catalog, { title: "Other", ownerId: owner.id, visibility: "PRIVATE" });
    expect((await fetch(`${t.base}/api/videos/${other}?token=${encodeURIComponent(token)}`)).status).toBe(404);
    const tampered = `${token.slice(0, -2)}AA`;
    expect((await fetch(`${t.base}/api/videos/${privateId}?token=${tampered}`)).status).toBe(404);
    // A media token is not an embed token.
    const mediaToken = t.auth.mediaSigner.token(privateId);
    expect((await fetch(`${t.base}/api/videos/${privateId}?token=${mediaToken}`)).status).toBe(404);
  });
});

describe("unfurl tags on /watch/:id", () => {
  const page = async (id: string) => {
    const res = await fetch(`${t.base}/watch/${id}`, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    return res.text();
  };

  it("puts OpenGraph, Twitter player and oEmbed discovery tags into a public video's page, escaped", async () => {
    const html = await page(publicId);
    const embed = `${t.base}/embed/${publicId}`;
    expect(html).toContain('<meta property="og:type" content="video.other" />');
    expect(html).toContain('<meta property="og:title" content="Harbour &lt;at&gt; &quot;dawn&quot;" />');
    expect(html).toContain('<meta property="og:description" content="Boats &amp; &lt;b&gt;gulls&lt;/b&gt;" />');
    expect(html).toContain(`<meta property="og:image" content="${t.base}/media/videos/${publicId}/poster.jpg" />`);
    expect(html).toContain(`<meta property="og:video" content="${embed}" />`);
    expect(html).toContain('<meta name="twitter:card" content="player" />');
    expect(html).toContain(`<meta name="twitter:player" content="${embed}" />`);
    const oembedHref = `${t.base}/api/oembed?url=${encodeURIComponent(`${t.base}/watch/${publicId}`)}&amp;format=json`;
    expect(html).toContain(`<link rel="alternate" type="application/json+oembed" href="${oembedHref}"`);
    // Inside the head, the rest of the page as it was.
    expect(html.indexOf("og:title")).toBeLessThan(html.indexOf("</head>"));
    expect(html).toContain('<div id="root"></div>');
    expect(html).not.toContain("<b>gulls");
  });

  it("tags UNLISTED videos too; none for private, unfinished or unknown ones", async () => {
    expect(await page(unlistedId)).toContain('<meta name="twitter:card" content="player" />');
    for (const id of [privateId, queuedId, "00000000-0000-4000-8000-000000000000", "not-a-uuid"]) {
      expect(await page(id)).toBe(INDEX);
    }
  });

  it("serves the player page at /embed/:id under the framing policy", async () => {
    const res = await fetch(`${t.base}/embed/${publicId}?autoplay=1`, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("<title>player</title>");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors *");
  });
});
