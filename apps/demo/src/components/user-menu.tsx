import { useState } from "react";
import { Link, NavLink, useNavigate } from "react-router";
import { useSession } from "../session.js";

/**
 * Signed in: upload, my videos, who you are and sign-out. Signed out: upload too (it asks to
 * sign in first, and says so), sign in and create account.
 */
export function UserMenu() {
  const session = useSession();
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  const { user } = session;
  if (user === undefined) return null;
  if (!user) {
    return (
      <>
        <NavLink to="/upload">Upload</NavLink>
        <NavLink to="/sign-in">Sign in</NavLink>
        <Link to="/sign-up" className="demo-button">
          Create account
        </Link>
      </>
    );
  }
  return (
    <>
      <NavLink to="/upload">Upload</NavLink>
      <NavLink to="/mine">My videos</NavLink>
      <NavLink to="/developer">Developer</NavLink>
      {user.handle ? (
        <NavLink to={`/c/${user.handle}`} className="demo-user" title={`Your channel (${user.email})`}>
          {user.name || user.email}
        </NavLink>
      ) : (
        <span className="demo-user" title={user.email}>
          {user.name || user.email}
        </span>
      )}
      <button
        type="button"
        className="demo-button demo-button--plain"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          session
            .signOut()
            .then(() => navigate("/"))
            .finally(() => setBusy(false));
        }}
      >
        Sign out
      </button>
    </>
  );
}
