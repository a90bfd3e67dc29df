import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoServer, startDemoServer } from "../../test/real-server.js";
import { renderApp } from "../../test/render-app.js";

let server: DemoServer;
const ids: Record<string, string> = {};

beforeAll(async () => {
  server = await startDemoServer();
  // Published in this order, so the home page (newest first) shows city, trail, harbour.
  ids.harbour = await server.makeReadyVideo({ title: "Sunset over the harbour", description: "Boats at dusk" });
  ids.trail = await server.makeReadyVideo({ title: "Mountain trail run", description: "Early morning" });
  ids.city = await server.makeReadyVideo({ title: "City lights timelapse", description: "Harbour bridge at night" });
  ids.queued = await server.makeQueuedVideo({ title: "Harbour clip still in the queue" });
}, 180_000);

afterAll(async () => {
  await server?.close();
});

// A card's first link is its title (the second, its channel).
const cardTitles = () =>
  screen.queryAllByRole("listitem").map((item) => within(item).getAllByRole("link")[0]?.textContent);

describe("home page", () => {
  it("lists READY videos newest first, with duration, and loads more by cursor", async () => {
    const user = userEvent.setup();
    renderApp(server.client, "/", { pageSize: 2 });
    expect(screen.getByRole("heading", { level: 1, name: "Latest videos" })).toBeInTheDocument();
    await waitFor(() => expect(cardTitles()).toEqual(["City lights timelapse", "Mountain trail run"]));
    expect(screen.getByRole("link", { name: "City lights timelapse" })).toHaveAttribute("href", `/watch/${ids.city}`);
    expect(screen.getAllByText("0:03")).toHaveLength(2);

    await user.click(screen.getByRole("button", { name: "Load more" }));
    await waitFor(() =>
      expect(cardTitles()).toEqual(["City lights timelapse", "Mountain trail run", "Sunset over the harbour"]),
    );
    // Three READY videos on pages of two: the second page is the last one.
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
    expect(screen.queryByText("Harbour clip still in the queue")).not.toBeInTheDocument();
  });

  it("has a header with the search box, the navigation links and the signed-in user", async () => {
    const user = userEvent.setup();
    const app = renderApp(server.client, "/");
    const nav = screen.getByRole("navigation", { name: "Main" });
    await within(nav).findByRole("button", { name: "Sign out" });
    expect(
      within(nav)
        .getAllByRole("link")
        .map((a) => a.textContent),
    ).toEqual(["Home", "Upload", "My videos", "Developer", "Demo Tester"]);
    // The user's name leads to their channel.
    expect(within(nav).getByRole("link", { name: "Demo Tester" }).getAttribute("href")).toMatch(/^\/c\/[a-z0-9_-]+$/);
    expect(within(nav).getByRole("link", { name: "Home" })).toHaveAttribute("aria-current", "page");
    await user.click(screen.getByRole("link", { name: "My videos" }));
    expect(app.location()).toBe("/mine");
    expect(await screen.findByRole("heading", { level: 1, name: "My videos" })).toBeInTheDocument();
    await user.click(screen.getByRole("link", { name: "Upload" }));
    expect(app.location()).toBe("/upload");
    await user.click(screen.getByRole("link", { name: "Home" }));
    expect(app.location()).toBe("/");
    app.unmount();

    // Signed out: sign-in and sign-up instead.
    renderApp(server.anonymousClient, "/");
    const anonymousNav = screen.getByRole("navigation", { name: "Main" });
    await within(anonymousNav).findByRole("link", { name: "Sign in" });
    expect(
      within(anonymousNav)
        .getAllByRole("link")
        .map((a) => a.textContent),
    ).toEqual(["Home", "Upload", "Sign in", "Create account"]);
  });

  it("shows each card's views and upload date", async () => {
    renderApp(server.client, "/");
    const card = (await screen.findByRole("link", { name: "Mountain trail run" })).closest("article") as HTMLElement;
    expect(card).toHaveTextContent("No views");
    expect(within(card).getByText(/^(just now|\d+ minutes? ago)$/).tagName).toBe("TIME");
  });

  it("folds the navigation behind a menu button that says whether it is open", async () => {
    const user = userEvent.setup();
    renderApp(server.client, "/");
    const menu = screen.getByRole("button", { name: "Menu" });
    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(menu).toHaveAttribute("aria-expanded", "false");
    expect(menu).toHaveAttribute("aria-controls", nav.id);
    menu.focus();
    await user.keyboard("{Enter}");
    expect(menu).toHaveAttribute("aria-expanded", "true");
    await user.keyboard("{Escape}");
    expect(menu).toHaveAttribute("aria-expanded", "false");
    expect(menu).toHaveFocus();
    await user.keyboard(" ");
    expect(menu).toHaveAttribute("aria-expanded", "true");
    // Following a link closes it.
    await user.click(await within(nav).findByRole("link", { name: "My videos" }));
    expect(menu).toHaveAttribute("aria-expanded", "false");
  });
});

describe("search page", () => {
  it("searches for the q in the URL and shows it in the search box", async () => {
    renderApp(server.client, "/search?q=harbour");
    expect(screen.getByRole("heading", { level: 1, name: "Results for “harbour”" })).toBeInTheDocument();
    expect(screen.getByRole("combobox", { name: "Search videos" })).toHaveValue("harbour");
    // Title or description; READY videos only.
    await waitFor(() => expect(cardTitles().sort()).toEqual(["City lights timelapse", "Sunset over the harbour"]));
  });

  it("navigates to /search?q= when the search box is submitted", async () => {
    const user = userEvent.setup();
    const app = renderApp(server.client, "/watch/x");
    const box = screen.getByRole("combobox", { name: "Search videos" });
    expect(box).toHaveValue("");
    await user.type(box, "mountain run{Enter}");
    expect(app.location()).toBe("/search?q=mountain+run");
    await waitFor(() => expect(cardTitles()).toEqual(["Mountain trail run"]));
  });

  it("keeps sort and filters in the URL and applies them", async () => {
    const user = userEvent.setup();
    const app = renderApp(server.client, "/search?q=harbour&sort=oldest");
    const sort = screen.getByRole("combobox", { name: "Sort by" });
    expect(sort).toHaveValue("oldest");
    await waitFor(() => expect(cardTitles()).toEqual(["Sunset over the harbour", "City lights timelapse"]));
    await user.selectOptions(sort, "newest");
    expect(app.location()).toBe("/search?q=harbour&sort=newest");
    await waitFor(() => expect(cardTitles()).toEqual(["City lights timelapse", "Sunset over the harbour"]));
    // The fixtures are 180p: a 720p minimum leaves nothing.
    await user.selectOptions(screen.getByRole("combobox", { name: "Quality" }), "720");
    expect(app.location()).toBe("/search?q=harbour&sort=newest&quality=720");
    expect(await screen.findByText("The filters hide every video matching “harbour”.")).toBeInTheDocument();
  });

  it("clears the filters, keeping the query and the sort", async () => {
    const user = userEvent.setup();
    const app = renderApp(server.client, "/search?q=harbour&sort=newest&quality=720&duration=long&tags=boats");
    expect(await screen.findByText("The filters hide every video matching “harbour”.")).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Tags" })).toHaveValue("boats");
    await user.click(screen.getByRole("button", { name: "Clear filters and show every match" }));
    expect(app.location()).toBe("/search?q=harbour&sort=newest");
    await waitFor(() => expect(cardTitles()).toEqual(["City lights timelapse", "Sunset over the harbour"]));
    expect(screen.getByRole("combobox", { name: "Quality" })).toHaveValue("");
    expect(screen.getByRole("textbox", { name: "Tags" })).toHaveValue("");
    // With no filter set there is nothing to clear.
    expect(screen.queryByRole("button", { name: /Clear filters/ })).not.toBeInTheDocument();

    // The control beside the filters does the same while results are still showing.
    await user.selectOptions(screen.getByRole("combobox", { name: "Upload date" }), "year");
    expect(app.location()).toBe("/search?q=harbour&sort=newest&uploaded=year");
    await user.click(screen.getByRole("button", { name: "Clear filters" }));
    expect(app.location()).toBe("/search?q=harbour&sort=newest");
  });

  it("says so when nothing matches", async () => {
    renderApp(server.client, "/search?q=zebra");
    expect(await screen.findByText("No videos match “zebra”.")).toBeInTheDocument();
    expect(screen.queryAllByRole("listitem")).toHaveLength(0);
  });
});

describe("watch page", () => {
  it("shows the player, the title as the heading and the description of a READY video", async () => {
    renderApp(server.client, `/watch/${ids.harbour}`);
    expect(await screen.findByRole("heading", { level: 1, name: "Sunset over the harbour" })).toBeInTheDocument();
    expect(screen.getByText("Boats at dusk")).toBeInTheDocument();
    expect(screen.getByRole("region", { name: "Video player" })).toBeInTheDocument();
    expect(screen.queryByRole("progressbar", { name: "Processing progress" })).not.toBeInTheDocument();
  });

  it("shows status and progress while processing, then the player once READY", async () => {
    const id = await server.makeQueuedVideo({ title: "Fresh upload", description: "Not ready yet" });
    await server.catalog.transcodes.applyProgress({ videoId: id, attempt: 1, percent: 40, stage: "encoding" });
    renderApp(server.client, `/watch/${id}`);
    expect(await screen.findByRole("heading", { level: 1, name: "Fresh upload" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("Processing — 40%");
    expect(screen.getByRole("progressbar", { name: "Processing progress" })).toHaveAttribute("value", "40");
    expect(screen.queryByRole("region", { name: "Video player" })).not.toBeInTheDocument();

    // The page follows the server's status stream.
    await server.catalog.transcodes.applyProgress({ videoId: id, attempt: 1, percent: 75, stage: "encoding" });
    await waitFor(() => expect(screen.getByRole("status")).toHaveTextContent("Processing — 75%"), { timeout: 10_000 });
    const { readyEvent } = await import("../../../../packages/server/test/factories.js");
    await server.catalog.transcodes.applyReady(readyEvent(id, 1));
    expect(await screen.findByRole("region", { name: "Video player" }, { timeout: 10_000 })).toBeInTheDocument();
  });

  it("shows the failure reason of a FAILED video", async () => {
    const id = await server.makeQueuedVideo({ title: "Broken file" });
    await server.catalog.transcodes.applyFailed({
      videoId: id,
      attempt: 1,
      code: "NO_VIDEO_STREAM",
      reason: "The file has no video stream.",
    });
    renderApp(server.client, `/watch/${id}`);
    expect(await screen.findByRole("alert")).toHaveTextContent("Processing failed: The file has no video stream.");
    expect(screen.getByRole("heading", { level: 1, name: "Broken file" })).toBeInTheDocument();
  });

  it("says when the video does not exist", async () => {
    renderApp(server.client, "/watch/7d1f1e0a-0000-4000-8000-000000000000");
    expect(await screen.findByRole("heading", { level: 1, name: "Video not found" })).toBeInTheDocument();
  });
});
