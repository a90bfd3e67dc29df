import { type FormEvent, useEffect, useState } from "react";
import { useLocation, useNavigate, useSearchParams } from "react-router";

/** The query lives in the URL (`/search?q=`); the box mirrors it and navigates on submit. */
export function SearchBox() {
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const [params] = useSearchParams();
  const current = pathname === "/search" ? (params.get("q") ?? "") : "";
  const [text, setText] = useState(current);
  useEffect(() => setText(current), [current]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const q = text.trim();
    if (q) navigate(`/search?${new URLSearchParams({ q })}`);
  };

  return (
    // biome-ignore lint/a11y/useSemanticElements: <search> is too new for older screen readers; the role is understood everywhere
    <form role="search" className="demo-search" onSubmit={submit}>
      <input
        type="search"
        className="demo-search-input"
        aria-label="Search videos"
        placeholder="Search"
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <button type="submit" className="demo-search-button">
        Search
      </button>
    </form>
  );
}
