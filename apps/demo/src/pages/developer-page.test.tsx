import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoServer, startDemoServer } from "../../test/real-server.js";
import { renderApp } from "../../test/render-app.js";

let server: DemoServer;

beforeAll(async () => {
  server = await startDemoServer();
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe("Developer page", () => {
  it("creates an API key with a name and scope, shows it once, lists it and revokes it", async () => {
    const user = userEvent.setup();
    renderApp(server.client, "/developer");
    expect(await screen.findByText("No keys yet.")).toBeInTheDocument();
    await user.type(screen.getByLabelText("Name"), "partner site");
    await user.selectOptions(screen.getByLabelText("Scope"), "upload");
    await user.click(screen.getByRole("button", { name: "Create key" }));
    const shown = await screen.findByRole("status");
    const key = within(shown).getByText(/^rk_/).textContent as string;
    expect(key).toMatch(/^rk_[A-Za-z0-9_-]{43}$/);
    const row = (await screen.findByRole("cell", { name: "partner site" })).closest("tr") as HTMLElement;
    expect(row).toHaveTextContent(`${key.slice(0, 9)}…`);
    expect(row).toHaveTextContent("upload");
    expect(row).not.toHaveTextContent(key);
    // The key works, for upload tokens only.
    const minted = await fetch(server.client.url("/api/upload-tokens"), {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
    });
    expect(minted.status).toBe(201);
    await user.click(within(row).getByRole("button", { name: "Revoke partner site" }));
    await waitFor(() => expect(row).toHaveTextContent("revoked"));
    const refused = await fetch(server.client.url("/api/upload-tokens"), {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
    });
    expect(refused.status).toBe(401);
    expect(screen.getByRole("heading", { name: "Webhooks" })).toBeInTheDocument();
  });
});
