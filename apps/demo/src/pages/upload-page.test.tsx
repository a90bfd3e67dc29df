import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { readyEvent } from "../../../../packages/server/test/factories.js";
import { type DemoServer, startDemoServer } from "../../test/real-server.js";
import { renderApp } from "../../test/render-app.js";

// The site's bundle gets tus-js-client's browser build (XMLHttpRequest, File); under vitest the
// package resolves to its Node build, which cannot read a File. Load the browser build, as Vite does.
vi.mock("tus-js-client", () => import("tus-js-client/lib.esm/browser/index.js"));

let server: DemoServer;

/** The signed-in user's videos as the server lists them ("My videos"), newest first. */
async function myVideoIds(): Promise<string[]> {
  return (await server.client.list({ mine: "1" })).items.map((v) => v.id);
}

/**
 * Watches the page's real XMLHttpRequests (the tus browser build uses XHR): records each
 * request's method and URL, and can hold every PATCH (the bytes) so that an upload stays halfway.
 */
function watchXhr(opts: { holdPatches?: boolean } = {}) {
  const sent: { method: string; url: string }[] = [];
  const methods = new WeakMap<XMLHttpRequest, string>();
  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  vi.spyOn(XMLHttpRequest.prototype, "open").mockImplementation(function (
    this: XMLHttpRequest,
    method: string,
    url: string | URL,
    ...rest: unknown[]
  ) {
    methods.set(this, method.toUpperCase());
    sent.push({ method: method.toUpperCase(), url: String(url) });
    return (open as (...args: unknown[]) => void).call(this, method, url, ...rest);
  });
  vi.spyOn(XMLHttpRequest.prototype, "send").mockImplementation(function (
    this: XMLHttpRequest,
    body?: Document | XMLHttpRequestBodyInit | null,
  ) {
    // A held PATCH is never sent: the upload is stuck after its creation, as on a dead network.
    if (opts.holdPatches && methods.get(this) === "PATCH") return;
    return send.call(this, body);
  });
  return { methods: () => sent.map((r) => r.method) };
}

async function pickAndUpload(user: ReturnType<typeof userEvent.setup>, name: string, bytes: Uint8Array<ArrayBuffer>) {
  await user.upload(screen.getByLabelText("Choose a video file"), new File([bytes], name, { type: "video/mp4" }));
  await user.click(screen.getByRole("button", { name: "Upload" }));
}

beforeAll(async () => {
  server = await startDemoServer();
}, 180_000);

afterAll(async () => {
  await server?.close();
});

beforeEach(() => localStorage.clear());

it("sends a signed-out visitor to sign in first", async () => {
  const app = renderApp(server.anonymousClient, "/upload");
  expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeInTheDocument();
  expect(app.location()).toBe(`/sign-in?next=${encodeURIComponent("/upload")}`);
});
afterEach(() => vi.restoreAllMocks());

describe("upload page", () => {
  it("uploads over tus as the signed-in user and links to its watch page through processing", async () => {
    const xhr = watchXhr();
    const user = userEvent.setup();
    const app = renderApp(server.client, "/upload");
    expect(await screen.findByRole("heading", { level: 1, name: "Upload a video" })).toBeInTheDocument();
    const bytes = new Uint8Array(64 * 1024).map((_, i) => i % 251);
    await user.upload(
      screen.getByLabelText("Choose a video file"),
      new File([bytes], "beach-day.mp4", { type: "video/mp4" }),
    );
    const title = screen.getByLabelText("Title");
    expect(title).toHaveValue("beach-day");
    await user.clear(title);
    await user.type(title, "Beach day");
    await user.type(screen.getByLabelText("Description"), "Waves");
    await user.click(screen.getByRole("button", { name: "Upload" }));

    const watch = await screen.findByRole("link", { name: "Watch" }, { timeout: 15_000 });
    // Every byte sent: the video is queued, and the page offers the next upload.
    await screen.findByRole("button", { name: "Add another video" }, { timeout: 15_000 });
    expect(screen.getByText(/It plays as soon as processing is done\./)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Watch" })).toBe(watch);
    const [id] = await myVideoIds();
    expect(id).toBeDefined();
    expect(watch).toHaveAttribute("href", `/watch/${id}`);
    const stored = await server.catalog.queries.get(id as string);
    expect(stored).toMatchObject({
      title: "Beach day",
      description: "Waves",
      status: "QUEUED",
      ownerId: server.user.id,
    });
    expect(Number(stored?.sourceSize)).toBe(bytes.byteLength);

    // Still there once processing finishes.
    await server.catalog.transcodes.applyReady(readyEvent(id as string, 1));
    expect(await screen.findByText("Your video is ready.", {}, { timeout: 10_000 })).toBeInTheDocument();
    // onReady reaches the page right after the uploader shows it.
    expect(await screen.findByText(/It is ready to play\./)).toBeInTheDocument();
    expect(screen.queryByText(/as soon as processing is done/)).toBeNull();
    expect(screen.getByRole("link", { name: "Watch" })).toBe(watch);
    await user.click(screen.getByRole("link", { name: "Watch" }));
    expect(app.location()).toBe(`/watch/${id}`);
    expect(await screen.findByRole("heading", { level: 1, name: "Beach day" })).toBeInTheDocument();
    // Leaving the page after a finished upload must not terminate it (tus DELETE).
    await new Promise((r) => setTimeout(r, 200));
    expect(xhr.methods()).toContain("PATCH");
    expect(xhr.methods()).not.toContain("DELETE");
  }, 30_000);

  it("owns the video from the upload's creation, so one abandoned halfway is in “My videos”", async () => {
    watchXhr({ holdPatches: true });
    const user = userEvent.setup();
    const app = renderApp(server.client, "/upload");
    await screen.findByLabelText("Choose a video file");
    await pickAndUpload(user, "half-way.mp4", new Uint8Array(4096));

    const watch = await screen.findByRole("link", { name: "Watch" }, { timeout: 15_000 });
    const [id] = await myVideoIds();
    expect(watch).toHaveAttribute("href", `/watch/${id}`);
    expect(await server.catalog.queries.get(id as string)).toMatchObject({ title: "half-way", status: "UPLOADING" });
    // Still uploading: the uploader's own controls, not the next-upload button.
    expect(screen.getByLabelText("Upload progress")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Add another video" })).not.toBeInTheDocument();

    app.unmount();
    expect((await myVideoIds())[0]).toBe(id);
  }, 30_000);

  it("hides the Watch link of a cancelled upload, and the server removes its video", async () => {
    const xhr = watchXhr({ holdPatches: true });
    const user = userEvent.setup();
    renderApp(server.client, "/upload");
    await screen.findByLabelText("Choose a video file");
    await pickAndUpload(user, "oops.mp4", new Uint8Array(4096));
    await screen.findByRole("link", { name: "Watch" }, { timeout: 15_000 });
    const [id] = await myVideoIds();
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("link", { name: "Watch" })).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Upload" })).toBeInTheDocument();
    // Cancelling an unfinished upload terminates it (tus DELETE, by its creator): its video goes.
    await waitFor(() => expect(xhr.methods()).toContain("DELETE"));
    await waitFor(async () => expect(await myVideoIds()).not.toContain(id));
  }, 30_000);

  it("starts over with an empty form for the next video", async () => {
    const user = userEvent.setup();
    renderApp(server.client, "/upload");
    const before = (await myVideoIds()).length;
    await user.upload(
      await screen.findByLabelText("Choose a video file"),
      new File([new Uint8Array(1024)], "first.mp4", { type: "video/mp4" }),
    );
    await user.click(screen.getByRole("button", { name: "Upload" }));
    await user.click(await screen.findByRole("button", { name: "Add another video" }, { timeout: 15_000 }));
    expect(screen.queryByRole("link", { name: "Watch" })).not.toBeInTheDocument();
    expect(screen.getByLabelText("Title")).toHaveValue("");
    expect(screen.getByRole("button", { name: "Upload" })).toBeDisabled();
    expect(await myVideoIds()).toHaveLength(before + 1);
  }, 30_000);
});
