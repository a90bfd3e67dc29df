import { ReelkitProvider } from "@reelkit/react";
import type { ReelkitClient } from "@reelkit/sdk";
import { Route, Routes } from "react-router";
import { Layout } from "./components/layout.js";
import { RequireUser } from "./components/require-user.js";
import { ForgotPasswordPage, ResetPasswordPage, VerifiedPage } from "./pages/account-recovery-pages.js";
import { ChannelPage } from "./pages/channel-page.js";
import { DeveloperPage } from "./pages/developer-page.js";
import { HomePage } from "./pages/home-page.js";
import { MyVideosPage } from "./pages/my-videos-page.js";
import { NotFoundPage } from "./pages/not-found-page.js";
import { OutboxPage } from "./pages/outbox-page.js";
import { SearchPage } from "./pages/search-page.js";
import { SignInPage } from "./pages/sign-in-page.js";
import { UploadPage } from "./pages/upload-page.js";
import { WatchPage } from "./pages/watch-page.js";
import { SessionProvider } from "./session.js";

export interface AppProps {
  client: ReelkitClient;
  /** Videos per page on the home and search grids. */
  pageSize?: number;
}

/** The demo's routes; the caller supplies the router (BrowserRouter in the browser, MemoryRouter in tests). */
export function App({ client, pageSize = 24 }: AppProps) {
  return (
    <ReelkitProvider client={client}>
      <SessionProvider>
        <Routes>
          <Route element={<Layout />}>
            <Route index element={<HomePage pageSize={pageSize} />} />
            <Route path="search" element={<SearchPage pageSize={pageSize} />} />
            <Route path="watch/:id" element={<WatchPage />} />
            <Route path="c/:handle" element={<ChannelPage pageSize={pageSize} />} />
            <Route
              path="upload"
              element={
                <RequireUser>
                  <UploadPage />
                </RequireUser>
              }
            />
            <Route
              path="mine"
              element={
                <RequireUser>
                  <MyVideosPage />
                </RequireUser>
              }
            />
            <Route
              path="developer"
              element={
                <RequireUser>
                  <DeveloperPage />
                </RequireUser>
              }
            />
            <Route path="sign-in" element={<SignInPage mode="sign-in" />} />
            <Route path="sign-up" element={<SignInPage mode="sign-up" />} />
            <Route path="forgot-password" element={<ForgotPasswordPage />} />
            <Route path="reset-password" element={<ResetPasswordPage />} />
            <Route path="verified" element={<VerifiedPage />} />
            <Route
              path="admin/outbox"
              element={
                <RequireUser>
                  <OutboxPage />
                </RequireUser>
              }
            />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </SessionProvider>
    </ReelkitProvider>
  );
}
