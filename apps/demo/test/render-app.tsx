import type { ReelkitClient } from "@reelkit/sdk";
import { render } from "@testing-library/react";
import { MemoryRouter, useLocation } from "react-router";
import { App } from "../src/app.js";

/** Renders the whole demo (header and routes) at `url`; `location()` reads the router's current URL. */
export function renderApp(client: ReelkitClient, url: string, options: { pageSize?: number } = {}) {
  const view = render(
    <MemoryRouter initialEntries={[url]}>
      <App client={client} pageSize={options.pageSize} />
      <LocationProbe />
    </MemoryRouter>,
  );
  return { ...view, location: () => view.getByTestId("location").textContent };
}

function LocationProbe() {
  const { pathname, search } = useLocation();
  return <div data-testid="location">{pathname + search}</div>;
}
