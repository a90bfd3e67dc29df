import { Link, NavLink, Outlet } from "react-router";
import { SearchBox } from "./search-box.js";
import { UserMenu } from "./user-menu.js";

/** Header (logo, search, navigation) around the current page. */
export function Layout() {
  return (
    <div className="demo">
      <a className="demo-skip-link" href="#main">
        Skip to content
      </a>
      <header className="demo-header">
        <Link to="/" className="demo-logo">
          <span aria-hidden="true" className="demo-logo-mark">
            ▶
          </span>
          Reelkit
        </Link>
        <SearchBox />
        <nav aria-label="Main" className="demo-nav">
          <NavLink to="/" end>
            Home
          </NavLink>
          <UserMenu />
        </nav>
      </header>
      <main id="main" className="demo-main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
