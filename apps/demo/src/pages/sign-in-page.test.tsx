import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoServer, startDemoServer } from "../../test/real-server.js";
import { renderApp } from "../../test/render-app.js";

let server: DemoServer;

beforeAll(async () => {
  server = await startDemoServer();
}, 180_000);

afterAll(async () => {
  await server?.close();
});

describe("sign-up and sign-in pages", () => {
  it("creates an account through the real /api/auth and shows the user in the header", async () => {
    const user = userEvent.setup();
    const app = renderApp(server.anonymousClient, "/sign-up?next=/");
    await user.type(await screen.findByLabelText("Name"), "Rosa Example");
    await user.type(screen.getByLabelText("Email"), "rosa@example.test");
    await user.type(screen.getByLabelText("Password"), "a long enough password");
    await user.click(screen.getByRole("button", { name: "Create account" }));
    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(await within(nav).findByText("Rosa Example")).toBeInTheDocument();
    await waitFor(() => expect(app.location()).toBe("/"));
  }, 30_000);

  it("answers a wrong password with the server's generic message", async () => {
    const user = userEvent.setup();
    renderApp(server.anonymousClient, "/sign-in");
    await user.type(await screen.findByLabelText("Email"), server.user.email);
    await user.type(screen.getByLabelText("Password"), "certainly not it");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/invalid email or password/i);
  }, 30_000);

  it("ignores a `next` that leaves the site", async () => {
    const user = userEvent.setup();
    const app = renderApp(server.anonymousClient, "/sign-in?next=//evil.example/");
    await user.type(await screen.findByLabelText("Email"), server.user.email);
    await user.type(screen.getByLabelText("Password"), server.user.password);
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    await screen.findByRole("heading", { level: 1, name: "My videos" });
    await waitFor(() => expect(app.location()).toBe("/mine"));
  }, 30_000);
});
