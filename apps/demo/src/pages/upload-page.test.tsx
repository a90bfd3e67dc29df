import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { readyEvent } from "../../../../packages/server/test/factories.js";
import { type DemoServer, startDemoServer } from "../../test/real-server.js";
import { renderApp } from "../../test/render-app.js";
import { readMyVideoIds } from "../my-videos-store.js";

// The site's bundle gets tus-js-client's browser build (XMLHttpRequest, File); under vitest the
// package resolves to its Node build, which cannot read a File. Load the browser build, as Vite does.
vi.mock("tus-js-client", () => import("tus-js-client/lib.esm/browser/index.js"));

let server: DemoServer;

beforeAll(async () => {
  server = await startDemoServer();
}, 60_000);

afterAll(async () => {
  await server?.close();
});

beforeEach(() => localStorage.clear());

describe("upload page", () => {
  it("uploads over tus, remembers the video and links to its watch page through processing", async () => {
    const user = userEvent.setup();
    const app = renderApp(server.client, "/upload");
    expect(screen.getByRole("heading", { level: 1, name: "Upload a video" })).toBeInTheDocument();
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
    const [id] = readMyVideoIds();
    expect(id).toBeDefined();
    expect(watch).toHaveAttribute("href", `/watch/${id}`);
    const stored = await server.catalog.get(id as string);
    expect(stored).toMatchObject({ title: "Beach day", description: "Waves", status: "QUEUED" });
    expect(Number(stored?.sourceSize)).toBe(bytes.byteLength);

    // Still there once processing finishes.
    await server.catalog.applyReady(readyEvent(id as string, 1));
    expect(await screen.findByText("Your video is ready.", {}, { timeout: 10_000 })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Watch" })).toBe(watch);
    await user.click(screen.getByRole("link", { name: "Watch" }));
    expect(app.location()).toBe(`/watch/${id}`);
    expect(await screen.findByRole("heading", { level: 1, name: "Beach day" })).toBeInTheDocument();
  }, 30_000);

  it("starts over with an empty form for the next video", async () => {
    const user = userEvent.setup();
    renderApp(server.client, "/upload");
    await user.upload(
      screen.getByLabelText("Choose a video file"),
      new File([new Uint8Array(1024)], "first.mp4", { type: "video/mp4" }),
    );
    await user.click(screen.getByRole("button", { name: "Upload" }));
    await screen.findByRole("link", { name: "Watch" }, { timeout: 15_000 });
    await user.click(screen.getByRole("button", { name: "Add another video" }));
    expect(screen.queryByRole("link", { name: "Watch" })).not.toBeInTheDocument();
    expect(screen.getByLabelText("Title")).toHaveValue("");
    expect(screen.getByRole("button", { name: "Upload" })).toBeDisabled();
    expect(readMyVideoIds()).toHaveLength(1);
  }, 30_000);
});
