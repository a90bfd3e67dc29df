import type { ReelkitClient } from "@reelkit/sdk";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type DemoServer, startDemoServer } from "../../test/real-server.js";
import { renderApp } from "../../test/render-app.js";

let server: DemoServer;

beforeAll(async () => {
  server = await startDemoServer();
  await server.makeReadyVideo({ title: "Harbour lights at night", description: "" });
  await server.makeReadyVideo({ title: "Harbour seals", description: "" });
  await server.makeReadyVideo({ title: "Harvest festival", description: "" });
}, 180_000);

afterAll(async () => {
  await server?.close();
});

/** The real client, with its typeahead calls counted. */
function countingClient(): { client: ReelkitClient; suggest: ReturnType<typeof vi.fn> } {
  const suggest = vi.fn(server.client.suggest);
  return { client: { ...server.client, suggest }, suggest };
}

const box = () => screen.getByRole("combobox", { name: "Search videos" });
const optionTitles = () =>
  within(screen.getByRole("listbox", { name: "Suggestions" }))
    .getAllByRole("option")
    .map((o) => o.textContent);

describe("search box typeahead", () => {
  it("is a combobox whose listbox of matching titles opens while typing", async () => {
    const user = userEvent.setup();
    renderApp(server.client, "/");
    expect(box()).toHaveAttribute("aria-expanded", "false");
    expect(box()).toHaveAttribute("aria-autocomplete", "list");
    await user.type(box(), "harb");
    await waitFor(() => expect(box()).toHaveAttribute("aria-expanded", "true"));
    const list = screen.getByRole("listbox", { name: "Suggestions" });
    expect(box()).toHaveAttribute("aria-controls", list.id);
    expect(optionTitles().sort()).toEqual(["Harbour lights at night", "Harbour seals"]);
    expect(box()).not.toHaveAttribute("aria-activedescendant");
  });

  it("moves through the options with ↑/↓ (wrapping) and searches for the one picked with Enter", async () => {
    const user = userEvent.setup();
    const app = renderApp(server.client, "/watch/x");
    await user.type(box(), "har");
    await waitFor(() => expect(optionTitles()).toHaveLength(3));
    const options = screen.getAllByRole("option");
    await user.keyboard("{ArrowDown}");
    expect(box()).toHaveAttribute("aria-activedescendant", options[0]?.id);
    expect(options[0]).toHaveAttribute("aria-selected", "true");
    await user.keyboard("{ArrowDown}{ArrowDown}{ArrowDown}");
    expect(box()).toHaveAttribute("aria-activedescendant", options[0]?.id);
    await user.keyboard("{ArrowUp}");
    expect(box()).toHaveAttribute("aria-activedescendant", options[2]?.id);
    expect(options[0]).toHaveAttribute("aria-selected", "false");
    const picked = options[2]?.textContent ?? "";
    await user.keyboard("{Enter}");
    expect(app.location()).toBe(`/search?${new URLSearchParams({ q: picked })}`);
    expect(box()).toHaveValue(picked);
    expect(box()).toHaveAttribute("aria-expanded", "false");
    expect(screen.queryByRole("listbox", { name: "Suggestions" })).not.toBeInTheDocument();
  });

  it("Enter with nothing highlighted searches for the text as typed", async () => {
    const user = userEvent.setup();
    const app = renderApp(server.client, "/");
    await user.type(box(), "harbour");
    await waitFor(() => expect(box()).toHaveAttribute("aria-expanded", "true"));
    await user.keyboard("{Enter}");
    expect(app.location()).toBe("/search?q=harbour");
  });

  it("closes with Escape, keeping the text, and opens again with ↓", async () => {
    const user = userEvent.setup();
    const app = renderApp(server.client, "/");
    await user.type(box(), "harv");
    await waitFor(() => expect(optionTitles()).toEqual(["Harvest festival"]));
    await user.keyboard("{ArrowDown}{Escape}");
    expect(box()).toHaveAttribute("aria-expanded", "false");
    expect(box()).not.toHaveAttribute("aria-activedescendant");
    expect(box()).toHaveValue("harv");
    expect(app.location()).toBe("/");
    await user.keyboard("{ArrowDown}");
    await waitFor(() => expect(box()).toHaveAttribute("aria-expanded", "true"));
  });

  it("searches for a clicked option", async () => {
    const user = userEvent.setup();
    const app = renderApp(server.client, "/");
    await user.type(box(), "harbour s");
    await user.click(await screen.findByRole("option", { name: "Harbour seals" }));
    expect(app.location()).toBe("/search?q=Harbour+seals");
  });

  it("asks once typing pauses, and never for an empty box", async () => {
    const user = userEvent.setup();
    const { client, suggest } = countingClient();
    renderApp(client, "/");
    await user.type(box(), "harbour");
    await waitFor(() => expect(box()).toHaveAttribute("aria-expanded", "true"));
    // Keystrokes come faster than the debounce: one request, for the whole word.
    expect(suggest.mock.calls.map((c) => c[0])).toEqual(["harbour"]);
    await user.clear(box());
    await user.type(box(), "   ");
    await new Promise((r) => setTimeout(r, 400));
    expect(suggest).toHaveBeenCalledTimes(1);
    expect(box()).toHaveAttribute("aria-expanded", "false");
  });
});
