import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoServer, startDemoServer } from "../../test/real-server.js";
import { renderApp } from "../../test/render-app.js";
import { embedCodeAt, shareUrl } from "../components/share-panel.js";

let server: DemoServer;

beforeAll(async () => {
  server = await startDemoServer();
}, 180_000);

afterAll(async () => {
  await server?.close();
});

const embedCode = () => (screen.getByRole("textbox", { name: "Embed" }) as HTMLTextAreaElement).value;

describe("share panel", () => {
  it("builds the link at a time and moves the embed to it", () => {
    expect(shareUrl("https://v.example", "abc", null)).toBe("https://v.example/watch/abc");
    expect(shareUrl("https://v.example", "abc", 42)).toBe("https://v.example/watch/abc?t=42");
    const link = {
      url: "https://v.example/embed/abc?token=1.x",
      html: '<iframe src="https://v.example/embed/abc?token=1.x" width="640"></iframe>',
      expiresAt: null,
    };
    expect(embedCodeAt(link, null)).toBe(link.html);
    expect(embedCodeAt(link, 42)).toBe(
      '<iframe src="https://v.example/embed/abc?token=1.x&amp;start=42" width="640"></iframe>',
    );
  }, 30_000);

  it("shares a READY video's link and embed code", async () => {
    const id = await server.makeReadyVideo({ title: "Shared clip" });
    const user = userEvent.setup();
    renderApp(server.client, `/watch/${id}?t=30`);
    await screen.findByRole("heading", { level: 1, name: "Shared clip" });
    await user.click(screen.getByText("Share"));
    expect(screen.getByRole("textbox", { name: "Link" })).toHaveValue(`${window.location.origin}/watch/${id}`);
    await waitFor(() => expect(embedCode()).toContain(`<iframe src="${server.baseUrl}/embed/${id}"`));
    expect(screen.getByRole("button", { name: "Copy embed code" })).toBeEnabled();
  }, 30_000);

  it("gives a PRIVATE video's owner a signed embed code that says when it ends", async () => {
    const id = await server.makeReadyVideo({ title: "Private clip" });
    await server.client.update(id, { visibility: "PRIVATE" });
    const user = userEvent.setup();
    renderApp(server.client, `/watch/${id}`);
    await screen.findByRole("heading", { level: 1, name: "Private clip" });
    await user.click(screen.getByText("Share"));
    await waitFor(() => expect(embedCode()).toMatch(new RegExp(`/embed/${id}\\?token=\\d+\\.`)));
    expect(screen.getByText(/This private video's embed works until/)).toBeInTheDocument();
  }, 30_000);
});
