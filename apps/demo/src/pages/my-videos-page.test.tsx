import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type DemoServer, startDemoServer } from "../../test/real-server.js";
import { renderApp } from "../../test/render-app.js";

let server: DemoServer;

beforeAll(async () => {
  server = await startDemoServer();
}, 180_000);

afterAll(async () => {
  await server?.close();
});

/** Starts each test with no videos: "My videos" lists everything the user owns. */
beforeEach(async () => {
  for (const v of (await server.client.list({ mine: "1", limit: 100 })).items) await server.catalog.edits.delete(v.id);
});

const row = (title: string) => screen.getByRole("listitem", { name: title });

describe("my videos page", () => {
  it("lists the signed-in user's videos from the server, any status, newest first", async () => {
    const ready = await server.makeReadyVideo({ title: "Harbour walk", description: "Gulls" });
    const busy = await server.makeQueuedVideo({ title: "Long lecture" });
    await server.catalog.transcodes.applyProgress({ videoId: busy, attempt: 1, percent: 30, stage: "encoding" });

    renderApp(server.client, "/mine");
    await screen.findByRole("listitem", { name: "Harbour walk" });
    await waitFor(() => expect(screen.getAllByRole("listitem")).toHaveLength(2));
    expect(row("Harbour walk")).toHaveTextContent("Status: Ready");
    expect(row("Long lecture")).toHaveTextContent("Status: Processing (30%)");
    expect(within(row("Harbour walk")).getByRole("link", { name: "Harbour walk" })).toHaveAttribute(
      "href",
      `/watch/${ready}`,
    );
    expect(screen.getAllByRole("listitem").map((li) => li.getAttribute("aria-labelledby") && li.textContent)).toEqual([
      expect.stringContaining("Long lecture"),
      expect.stringContaining("Harbour walk"),
    ]);
  }, 30_000);

  it("edits the title and description through the API", async () => {
    const user = userEvent.setup();
    const id = await server.makeReadyVideo({ title: "Untitled clip", description: "" });

    renderApp(server.client, "/mine");
    await user.click(
      within(await screen.findByRole("listitem", { name: "Untitled clip" })).getByRole("button", { name: "Edit" }),
    );
    const form = screen.getByRole("form", { name: "Edit Untitled clip" });
    const title = within(form).getByLabelText("Title");
    expect(title).toHaveFocus();
    await user.clear(title);
    await user.type(title, "Harbour at night");
    await user.type(within(form).getByLabelText("Description"), "Lights on the water");
    await user.click(within(form).getByRole("button", { name: "Save" }));

    expect(await screen.findByRole("link", { name: "Harbour at night" })).toBeInTheDocument();
    expect(screen.queryByRole("form")).not.toBeInTheDocument();
    const stored = await server.catalog.queries.get(id);
    expect(stored).toMatchObject({ title: "Harbour at night", description: "Lights on the water" });
  }, 30_000);

  it("shows the server's refusal when a save fails", async () => {
    const user = userEvent.setup();
    const id = await server.makeReadyVideo({ title: "Soon deleted" });
    renderApp(server.client, "/mine");
    await user.click(
      within(await screen.findByRole("listitem", { name: "Soon deleted" })).getByRole("button", { name: "Edit" }),
    );
    await server.catalog.edits.delete(id);
    await user.type(screen.getByLabelText("Title"), " (edited)");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(id);
  }, 30_000);

  it("deletes a video only after confirmation", async () => {
    const user = userEvent.setup();
    const keep = await server.makeReadyVideo({ title: "Keeper" });
    const drop = await server.makeReadyVideo({ title: "Blurry test shot" });

    renderApp(server.client, "/mine");
    const target = await screen.findByRole("listitem", { name: "Blurry test shot" });
    await user.click(within(target).getByRole("button", { name: "Delete" }));
    expect(within(target).getByRole("group", { name: /Delete “Blurry test shot” for good\?/ })).toBeInTheDocument();
    // Backing out keeps it.
    await user.click(within(target).getByRole("button", { name: "Keep it" }));
    expect(await server.catalog.queries.get(drop)).not.toBeNull();

    await user.click(within(target).getByRole("button", { name: "Delete" }));
    await user.click(within(target).getByRole("button", { name: "Yes, delete" }));
    await waitFor(() => expect(screen.queryByRole("listitem", { name: "Blurry test shot" })).not.toBeInTheDocument());
    expect(await server.catalog.queries.get(drop)).toBeNull();
    expect(await server.catalog.queries.get(keep)).not.toBeNull();
    expect(row("Keeper")).toBeInTheDocument();
  }, 30_000);

  it("points to the upload page when there is nothing yet", async () => {
    renderApp(server.client, "/mine");
    expect(await screen.findByText(/Nothing here yet/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Share your first video" })).toHaveAttribute("href", "/upload");
  }, 30_000);
});
