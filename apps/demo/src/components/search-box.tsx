import { useReelkitClient } from "@reelkit/react";
import { type FormEvent, type KeyboardEvent, useEffect, useId, useState } from "react";
import { useLocation, useNavigate, useSearchParams } from "react-router";

/** Quiet time after a keystroke before the typeahead asks the server. */
export const SUGGEST_DEBOUNCE_MS = 150;
const SUGGESTIONS = 8;

/**
 * Titles starting with `prefix`, asked for once typing pauses; nothing is asked for an empty box,
 * and an answer that arrives after the text changed again is dropped.
 */
function useSuggestions(prefix: string): string[] {
  const client = useReelkitClient();
  const [titles, setTitles] = useState<string[]>([]);
  const q = prefix.trim();
  useEffect(() => {
    // The previous list stays up while the next one loads, so typing does not make it flicker.
    if (!q) {
      setTitles([]);
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => {
      client.suggest(q, SUGGESTIONS, { signal: abort.signal }).then(
        (found) => {
          if (!abort.signal.aborted) setTitles(found);
        },
        // A typeahead that fails shows nothing; the search itself still works.
        () => undefined,
      );
    }, SUGGEST_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [client, q]);
  return titles;
}

/**
 * The query lives in the URL (`/search?q=`); the box mirrors it and navigates on submit. While
 * typing, matching titles drop down below it (the ARIA 1.2 combobox pattern: focus stays in the
 * box, ↑/↓ move through the list, Enter picks, Escape closes).
 */
export function SearchBox() {
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const [params] = useSearchParams();
  const current = pathname === "/search" ? (params.get("q") ?? "") : "";
  const [text, setText] = useState(current);
  const [open, setOpen] = useState(false);
  const [highlighted, setHighlighted] = useState(-1);
  const listId = useId();
  const suggestions = useSuggestions(open ? text : "");
  const expanded = open && suggestions.length > 0;
  const active = highlighted < suggestions.length ? highlighted : -1;
  useEffect(() => {
    setText(current);
    setOpen(false);
  }, [current]);

  const search = (q: string) => {
    setOpen(false);
    if (q) navigate(`/search?${new URLSearchParams({ q })}`);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    search(text.trim());
  };
  const pick = (title: string) => {
    setText(title);
    search(title);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!open) {
        setOpen(true);
        return;
      }
      const n = suggestions.length;
      if (n === 0) return;
      setHighlighted(e.key === "ArrowDown" ? (active + 1) % n : active <= 0 ? n - 1 : active - 1);
    } else if (e.key === "Enter" && expanded && active >= 0) {
      e.preventDefault();
      const title = suggestions[active];
      if (title !== undefined) pick(title);
    } else if (e.key === "Escape" && expanded) {
      // Closes the list and keeps the text (a search input would otherwise clear itself).
      e.preventDefault();
      setOpen(false);
    }
  };

  return (
    // biome-ignore lint/a11y/useSemanticElements: <search> is too new for older screen readers; the role is understood everywhere
    <form role="search" className="demo-search" onSubmit={submit}>
      <input
        type="search"
        role="combobox"
        className="demo-search-input"
        aria-label="Search videos"
        aria-autocomplete="list"
        aria-expanded={expanded}
        aria-controls={listId}
        aria-activedescendant={expanded && active >= 0 ? `${listId}-${active}` : undefined}
        autoComplete="off"
        placeholder="Search"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
          setHighlighted(-1);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => setOpen(false)}
      />
      <button type="submit" className="demo-search-button">
        Search
      </button>
      <div id={listId} role="listbox" aria-label="Suggestions" className="demo-search-suggestions" hidden={!expanded}>
        {expanded &&
          suggestions.map((title, i) => (
            // Options are never focused: the box keeps focus and points at one (aria-activedescendant),
            // and its keys (↑/↓/Enter) are the keyboard path to them.
            // biome-ignore lint/a11y/useFocusableInteractive: see above
            // biome-ignore lint/a11y/useKeyWithClickEvents: see above
            <div
              key={title}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              className="demo-search-suggestion"
              // Keeps focus (and the open list) in the box until the click lands.
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => pick(title)}
            >
              {title}
            </div>
          ))}
      </div>
    </form>
  );
}
