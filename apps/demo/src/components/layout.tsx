import { type KeyboardEvent, useEffect, useId, useRef, useState } from "react";
import { Link, NavLink, Outlet, useLocation } from "react-router";
import { VerifyEmailNotice } from "../pages/account-recovery-pages.js";
import { SearchBox } from "./search-box.js";
import { UserMenu } from "./user-menu.js";

/**
 * Header (logo, search, navigation) around the current page. On narrow screens the navigation
 * and the user menu fold behind a menu button (a disclosure: the button says whether it is open,
 * Escape closes it and gives focus back to the button); wide screens show them inline and hide
 * the button, all in CSS.
 */
export function Layout() {
  const menuId = useId();
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const { pathname, search } = useLocation();
  // Following a link (or a search) closes the menu.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the URL is the trigger
  useEffect(() => setOpen(false), [pathname, search]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (open && e.key === "Escape") {
      setOpen(false);
      button.current?.focus();
    }
  };

  return (
    <div className="demo">
      <a className="demo-skip-link" href="#main">
        Skip to content
      </a>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: Escape anywhere in the header closes the menu */}
      <header className="demo-header" onKeyDown={onKeyDown}>
        <Link to="/" className="demo-logo">
          <span aria-hidden="true" className="demo-logo-mark">
            ▶
          </span>
          <span className="demo-logo-text">Reelkit</span>
        </Link>
        <SearchBox />
        <button
          ref={button}
          type="button"
          className="demo-menu-button"
          aria-expanded={open}
          aria-controls={menuId}
          onClick={() => setOpen((o) => !o)}
        >
          <span aria-hidden="true" className="demo-menu-icon" />
          <span className="demo-visually-hidden">Menu</span>
        </button>
        <nav id={menuId} aria-label="Main" className="demo-nav" data-open={open || undefined}>
          <NavLink to="/" end>
            Home
          </NavLink>
          <UserMenu />
        </nav>
      </header>
      <main id="main" className="demo-main" tabIndex={-1}>
        <VerifyEmailNotice />
        <Outlet />
      </main>
    </div>
  );
}
