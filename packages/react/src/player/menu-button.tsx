import { type KeyboardEvent, type ReactNode, useEffect, useRef } from "react";

export interface MenuItem {
  key: string;
  label: ReactNode;
  checked: boolean;
  /** Marks the item that is playing (the quality menu shows the rung in use under Auto). */
  playing?: boolean;
  onSelect(): void;
}

export interface MenuButtonProps {
  /** Accessible name of the button, e.g. "Quality: Auto (720p)". */
  label: string;
  /** Accessible name of the menu, e.g. "Quality". */
  menuLabel: string;
  children: ReactNode;
  items: MenuItem[];
  open: boolean;
  onOpenChange(open: boolean): void;
  className?: string;
}

/**
 * A button that opens a menu of radio items (WAI-ARIA menu button pattern): the checked item gets
 * focus on open, ↑/↓/Home/End move, Escape closes and returns focus to the button.
 */
export function MenuButton({ label, menuLabel, children, items, open, onOpenChange, className }: MenuButtonProps) {
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const wrapper = useRef<HTMLDivElement>(null);

  const focusItem = (index: number) => {
    const buttons = menu.current?.querySelectorAll<HTMLButtonElement>('[role="menuitemradio"]');
    if (!buttons?.length) return;
    buttons[(index + buttons.length) % buttons.length]?.focus();
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: focus moves only when the menu opens
  useEffect(() => {
    if (!open) return;
    focusItem(
      Math.max(
        0,
        items.findIndex((i) => i.checked),
      ),
    );
    // A press anywhere outside closes the menu.
    const onPointerDown = (e: Event) => {
      if (!wrapper.current?.contains(e.target as Node)) onOpenChange(false);
    };
    document.addEventListener("pointerdown", onPointerDown);
    return () => document.removeEventListener("pointerdown", onPointerDown);
  }, [open]);

  const onMenuKeyDown = (e: KeyboardEvent) => {
    const buttons = Array.from(menu.current?.querySelectorAll<HTMLButtonElement>('[role="menuitemradio"]') ?? []);
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    switch (e.key) {
      case "ArrowDown":
        focusItem(at + 1);
        break;
      case "ArrowUp":
        focusItem(at - 1);
        break;
      case "Home":
        focusItem(0);
        break;
      case "End":
        focusItem(-1);
        break;
      case "Escape":
        onOpenChange(false);
        button.current?.focus();
        break;
      case "Tab":
        onOpenChange(false);
        return;
      default:
        return;
    }
    // Keys the menu used are not player shortcuts.
    e.preventDefault();
    e.stopPropagation();
  };

  return (
    <div ref={wrapper} className={["rk-menu", className].filter(Boolean).join(" ")}>
      <button
        ref={button}
        type="button"
        className="rk-control"
        aria-label={label}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => onOpenChange(!open)}
      >
        {children}
      </button>
      {open && (
        <div ref={menu} role="menu" aria-label={menuLabel} className="rk-menu-list" onKeyDown={onMenuKeyDown}>
          {items.map((item) => (
            <button
              key={item.key}
              type="button"
              role="menuitemradio"
              tabIndex={-1}
              aria-checked={item.checked}
              data-playing={item.playing || undefined}
              onClick={() => {
                item.onSelect();
                onOpenChange(false);
                button.current?.focus();
              }}
            >
              {item.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
