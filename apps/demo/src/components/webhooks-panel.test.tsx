import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoServer, startDemoServer } from "../../test/real-server.js";
import { WebhooksPanel } from "./webhooks-panel.js";

let server: DemoServer;

beforeAll(async () => {
  server = await startDemoServer({ env: { REELKIT_WEBHOOK_ALLOW_PRIVATE: "true" } });
}, 180_000);

afterAll(async () => {
  await server?.close();
});

describe("webhooks panel", () => {
  it("adds an endpoint with the checked events, shows its secret once, lists, redelivers and deletes", async () => {
    const user = userEvent.setup();
    const view = render(<WebhooksPanel client={server.client} />);
    await screen.findByText("No webhook endpoints yet.");

    await user.type(screen.getByLabelText("Endpoint URL"), "http://127.0.0.1:9/hooks");
    await user.click(screen.getByRole("checkbox", { name: "video.failed" }));
    await user.click(screen.getByRole("checkbox", { name: "video.created" }));
    await user.click(screen.getByRole("button", { name: "Add endpoint" }));

    const secret = (await screen.findByLabelText("Signing secret")) as HTMLInputElement;
    expect(secret.value).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const list = await screen.findByRole("list", { name: "Webhook endpoints" });
    expect(within(list).getByText("http://127.0.0.1:9/hooks")).toBeInTheDocument();
    expect(within(list).getByText("video.created, video.ready")).toBeInTheDocument();
    const [endpoint] = await server.webhooks.list(server.user.id);
    expect(endpoint?.events).toEqual(["video.created", "video.ready"]);
    await user.click(screen.getByRole("button", { name: "Done" }));
    expect(screen.queryByLabelText("Signing secret")).toBeNull();

    // A delivery that failed for good, as the delivery loop leaves it.
    const videoId = await server.makeQueuedVideo({ title: "Hooked" });
    await server.webhooks.fanOut({
      id: "msg_panel1",
      type: "video.created",
      videoId,
      ownerId: server.user.id,
      body: JSON.stringify({ type: "video.created", timestamp: new Date().toISOString(), data: { id: videoId } }),
    });
    await server.webhooks.prisma.webhookDelivery.updateMany({
      where: { eventId: "msg_panel1" },
      data: { status: "FAILED", attempts: 8, lastError: "ECONNREFUSED" },
    });
    await user.click(screen.getByRole("button", { name: "Deliveries" }));
    const table = await screen.findByRole("table", { name: "Deliveries" });
    const row = within(table).getByText("msg_panel1").closest("tr") as HTMLElement;
    expect(within(row).getByText("FAILED")).toBeInTheDocument();
    expect(within(row).getByText("ECONNREFUSED")).toBeInTheDocument();
    await user.click(within(row).getByRole("button", { name: "Redeliver msg_panel1" }));
    await waitFor(() => expect(within(row).getByText("PENDING")).toBeInTheDocument());
    const [stored] = await server.webhooks.prisma.webhookDelivery.findMany({ where: { eventId: "msg_panel1" } });
    expect(stored).toMatchObject({ status: "PENDING", attempts: 0 });

    await user.click(screen.getByRole("button", { name: "Delete http://127.0.0.1:9/hooks" }));
    await screen.findByText("No webhook endpoints yet.");
    expect(await server.webhooks.list(server.user.id)).toEqual([]);
    view.unmount();
  });

  it("shows the server's refusal of a URL", async () => {
    const user = userEvent.setup();
    render(<WebhooksPanel client={server.client} />);
    await screen.findByText("No webhook endpoints yet.");
    await user.type(screen.getByLabelText("Endpoint URL"), "http://no-such-host.invalid/hooks");
    await user.click(screen.getByRole("button", { name: "Add endpoint" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/does not resolve/);
  });
});
