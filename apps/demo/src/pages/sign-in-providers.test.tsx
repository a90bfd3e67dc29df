import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startOidcProvider, type TestOidcProvider } from "../../../../packages/server/test/oidc-provider.js";
import { type DemoServer, startDemoServer } from "../../test/real-server.js";
import { renderApp } from "../../test/render-app.js";
import { leavePage } from "../leave-page.js";

let idp: TestOidcProvider;
let server: DemoServer;

beforeAll(async () => {
  idp = await startOidcProvider();
  server = await startDemoServer({
    env: {
      ...idp.env,
      OIDC_NAME: "Example ID",
      GOOGLE_CLIENT_ID: "google-client.apps.example",
      GOOGLE_CLIENT_SECRET: "google-secret",
      // The page's own origin (jsdom's) is where the server sends the browser back.
      REELKIT_CORS_ORIGINS: window.location.origin,
    },
  });
}, 180_000);

afterAll(async () => {
  await server?.close();
  await idp?.close();
});

describe("sign-in with an identity provider", () => {
  it("offers the server's providers and leaves for the issuer's authorization endpoint", async () => {
    const leave = vi.spyOn(leavePage, "to").mockImplementation(() => {});
    try {
      const user = userEvent.setup();
      renderApp(server.anonymousClient, "/sign-in?next=/upload");
      const group = await screen.findByRole("group", { name: "Other ways to sign in" });
      const buttons = within(group).getAllByRole("button");
      expect(buttons.map((b) => b.textContent)).toEqual(["Sign in with Google", "Sign in with Example ID"]);

      await user.click(within(group).getByRole("button", { name: "Sign in with Example ID" }));
      await vi.waitFor(() => expect(leave).toHaveBeenCalledTimes(1));
      const url = new URL(leave.mock.calls[0]?.[0] as string);
      expect(url.origin).toBe(idp.issuer);
      expect(url.searchParams.get("redirect_uri")).toBe(`${server.baseUrl}/api/auth/callback/oidc`);
      expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    } finally {
      leave.mockRestore();
    }
  }, 30_000);

  it("shows why a provider sign-in came back refused", async () => {
    renderApp(server.anonymousClient, "/sign-in?error=state_mismatch");
    expect(await screen.findByRole("alert")).toHaveTextContent(/did not succeed \(state_mismatch\)/);
  });
});
