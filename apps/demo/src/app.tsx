import { ReelkitProvider } from "@reelkit/react";
import type { ReelkitClient } from "@reelkit/sdk";
import { Route, Routes } from "react-router";
import { Layout } from "./components/layout.js";
import { HomePage } from "./pages/home-page.js";
import { MyVideosPage } from "./pages/my-videos-page.js";
import { NotFoundPage } from "./pages/not-found-page.js";
import { SearchPage } from "./pages/search-page.js";
import { UploadPage } from "./pages/upload-page.js";
import { WatchPage } from "./pages/watch-page.js";

export interface AppProps {
  client: ReelkitClient;
  /** Videos per page on the home and search grids. */
  pageSize?: number;
}

/** The demo's routes; the caller supplies the router (BrowserRouter in the browser, MemoryRouter in tests). */
export function App({ client, pageSize = 24 }: AppProps) {
  return (
    <ReelkitProvider client={client}>
      <Routes>
        <Route element={<Layout />}>
          <Route index element={<HomePage pageSize={pageSize} />} />
          <Route path="search" element={<SearchPage pageSize={pageSize} />} />
          <Route path="watch/:id" element={<WatchPage />} />
          <Route path="upload" element={<UploadPage />} />
          <Route path="mine" element={<MyVideosPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </ReelkitProvider>
  );
}
