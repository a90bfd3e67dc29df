import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { useSession } from "../session.js";

/** Pages that need an account send a signed-out visitor to sign in, and back afterwards. */
export function RequireUser({ children }: { children: ReactNode }) {
  const { user } = useSession();
  const { pathname, search } = useLocation();
  if (user === undefined) {
    return (
      <p role="status" className="demo-muted">
        Loading…
      </p>
    );
  }
  if (!user) return <Navigate to={`/sign-in?next=${encodeURIComponent(pathname + search)}`} replace />;
  return <>{children}</>;
}
