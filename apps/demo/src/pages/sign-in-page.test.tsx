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

  it("states the password rule beside the field and answers a short password with its own message", async () => {
    const user = userEvent.setup();
    const app = renderApp(server.anonymousClient, "/sign-up?next=/");
    const password = await screen.findByLabelText("Password");
    expect(password).toHaveAccessibleDescription("At least 8 characters.");
    await user.type(screen.getByLabelText("Email"), "short@example.test");
    await user.type(password, "seven77");
    await user.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The password is too short: use at least 8 characters.");
    expect(password).toHaveAttribute("aria-invalid", "true");
    expect(app.location()).toBe("/sign-up?next=/");
  });

  it("offers a signed-out visitor the upload, and says sign-in comes first", async () => {
    const user = userEvent.setup();
    const app = renderApp(server.anonymousClient, "/");
    // Nobody has uploaded anything on this server yet.
    await user.click(await screen.findByRole("link", { name: "Sign in to upload the first one" }));
    expect(app.location()).toBe("/sign-in?next=%2Fupload");
    expect(await screen.findByText(/^Sign in to upload/)).toBeInTheDocument();
    app.unmount();

    // The header's Upload goes to the upload page, which sends the visitor on to sign in.
    const again = renderApp(server.anonymousClient, "/");
    const nav = screen.getByRole("navigation", { name: "Main" });
    await user.click(await within(nav).findByRole("link", { name: "Upload" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeInTheDocument();
    expect(again.location()).toBe("/sign-in?next=%2Fupload");
    expect(screen.getByText(/^Sign in to upload/)).toBeInTheDocument();
  });
});
