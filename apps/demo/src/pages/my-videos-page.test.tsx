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

  it("turns downloads on, edits chapters, previews a poster frame and manages text tracks", async () => {
    const user = userEvent.setup();
    const id = await server.makeReadyVideo({ title: "Harbour tour" });
    // The media playlist a text track is segmented along (the ready video has no files of its own).
    const playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3.0,\nseg-00001.m4s\n#EXT-X-ENDLIST\n";
    await server.storage.put(`videos/${id}/hls/180p/index.m3u8`, Buffer.from(playlist));

    renderApp(server.client, "/mine");
    await user.click(
      within(await screen.findByRole("listitem", { name: "Harbour tour" })).getByRole("button", { name: "Edit" }),
    );
    const form = screen.getByRole("form", { name: "Edit Harbour tour" });
    await user.click(within(form).getByLabelText(/download this video/));

    // The poster frame is previewed from the image route as it is typed; past the end is refused.
    const posterInput = within(form).getByLabelText("Poster frame");
    await user.type(posterInput, "1.5");
    expect(within(form).getByAltText("Poster preview").getAttribute("src")).toBe(
      `${server.baseUrl}/media/videos/${id}/thumbnail.jpg?time=1.5&width=320`,
    );
    await user.clear(posterInput);
    await user.type(posterInput, "0:09");
    expect(within(form).getByText("After the end of the video.")).toBeInTheDocument();
    await user.clear(posterInput);

    const chapters = within(form).getByRole("group", { name: "Chapters" });
    await user.click(within(chapters).getByRole("button", { name: "Add chapter" }));
    await user.type(within(chapters).getByLabelText("Chapter 1 title"), "Quay");
    await user.click(within(chapters).getByRole("button", { name: "Add chapter" }));
    const secondStart = within(chapters).getByLabelText("Chapter 2 start");
    await user.clear(secondStart);
    await user.type(secondStart, "0:01.5");
    await user.type(within(chapters).getByLabelText("Chapter 2 title"), "Lighthouse");

    // A track is added (SRT, converted by the server) and another deleted, at once.
    const tracks = within(form).getByRole("group", { name: "Captions and subtitles" });
    const srt = "1\n00:00:00,500 --> 00:00:02,000\nGulls\n";
    for (const [language, label] of [
      ["en", "English"],
      ["fr", "Français"],
    ]) {
      await user.upload(
        within(tracks).getByLabelText("Caption file (.vtt or .srt)"),
        new File([srt], `${language}.srt`, { type: "" }),
      );
      await user.type(within(tracks).getByLabelText("Language"), language as string);
      await user.type(within(tracks).getByLabelText("Label"), label as string);
      await user.click(within(tracks).getByRole("button", { name: "Add track" }));
      expect(await within(tracks).findByText(`${label} (${language}, 1 cues)`, { exact: false })).toBeInTheDocument();
    }
    await user.click(within(tracks).getByRole("button", { name: "Delete Français" }));
    await waitFor(() => expect(within(tracks).queryByText(/Français/)).not.toBeInTheDocument());

    await user.click(within(form).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(screen.queryByRole("form")).not.toBeInTheDocument());
    const stored = await server.catalog.queries.get(id);
    expect(stored).toMatchObject({
      downloads: true,
      posterTime: null,
      chapters: [
        { title: "Quay", startTime: 0 },
        { title: "Lighthouse", startTime: 1.5 },
      ],
    });
    expect(((stored?.captions ?? []) as { language: string }[]).map((t) => t.language)).toEqual(["en"]);
  }, 60_000);

  it("refuses chapters out of order before sending them", async () => {
    const user = userEvent.setup();
    await server.makeReadyVideo({ title: "Unordered" });
    renderApp(server.client, "/mine");
    await user.click(
      within(await screen.findByRole("listitem", { name: "Unordered" })).getByRole("button", { name: "Edit" }),
    );
    const chapters = screen.getByRole("group", { name: "Chapters" });
    await user.click(within(chapters).getByRole("button", { name: "Add chapter" }));
    await user.click(within(chapters).getByRole("button", { name: "Add chapter" }));
    await user.type(within(chapters).getByLabelText("Chapter 1 title"), "One");
    await user.type(within(chapters).getByLabelText("Chapter 2 title"), "Two");
    await user.clear(within(chapters).getByLabelText("Chapter 2 start"));
    await user.type(within(chapters).getByLabelText("Chapter 2 start"), "0");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Chapter 2 must start after chapter 1.");
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
