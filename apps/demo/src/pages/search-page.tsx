import { type UseVideosQuery, useVideos } from "@reelkit/react";
import type { DurationFilter, VideoSort } from "@reelkit/sdk";
import { useMemo } from "react";
import { useSearchParams } from "react-router";
import { VideoGrid } from "../components/video-grid.js";
import { useDocumentTitle } from "../use-document-title.js";

const SORTS: { value: VideoSort; label: string }[] = [
  { value: "relevance", label: "Relevance" },
  { value: "newest", label: "Newest" },
  { value: "oldest", label: "Oldest" },
  { value: "longest", label: "Longest" },
  { value: "views", label: "Most viewed" },
];
const DURATIONS: { value: DurationFilter; label: string }[] = [
  { value: "short", label: "Under 4 minutes" },
  { value: "medium", label: "4–20 minutes" },
  { value: "long", label: "Over 20 minutes" },
];
const UPLOADED = { day: 1, week: 7, month: 31, year: 366 } as const;
type Uploaded = keyof typeof UPLOADED;
const QUALITIES = [
  { value: "720", label: "HD (720p+)" },
  { value: "1080", label: "Full HD (1080p+)" },
  { value: "2160", label: "4K" },
];

/** The parameters that narrow a search (sort only orders it). */
const FILTERS = ["duration", "uploaded", "quality", "tags"] as const;

const pick = <T extends string>(raw: string | null, allowed: readonly T[]): T | undefined =>
  allowed.find((a) => a === raw);

/** Filters and sort as they stand in the URL (`/search?q=…&sort=…&duration=…&uploaded=…&quality=…&tags=…`). */
function queryFromUrl(params: URLSearchParams, q: string, pageSize: number): UseVideosQuery {
  const uploaded = pick(params.get("uploaded"), Object.keys(UPLOADED) as Uploaded[]);
  const quality = pick(
    params.get("quality"),
    QUALITIES.map((x) => x.value),
  );
  const tags = params.get("tags")?.trim();
  return {
    q,
    limit: pageSize,
    // Relevance ranks a search; a list by tags alone has none.
    sort: pick(
      params.get("sort"),
      SORTS.map((s) => s.value).filter((s) => q || s !== "relevance"),
    ),
    duration: pick(
      params.get("duration"),
      DURATIONS.map((d) => d.value),
    ),
    // Whole days, so the query (and its cache key) stays the same for the whole day.
    publishedAfter: uploaded
      ? new Date(Math.floor(Date.now() / 86_400_000 - UPLOADED[uploaded]) * 86_400_000).toISOString()
      : undefined,
    minHeight: quality ? Number(quality) : undefined,
    tags: tags || undefined,
  };
}

export function SearchPage({ pageSize }: { pageSize: number }) {
  const [params] = useSearchParams();
  const q = params.get("q")?.trim() ?? "";
  const tags = params.get("tags")?.trim() ?? "";
  useDocumentTitle(q ? `Search: ${q}` : tags ? `Tagged ${tags}` : "Search");
  // A tag link (`/search?tags=cats`) lists the tagged videos without a search word.
  if (!q && !tags) {
    return (
      <section aria-labelledby="search-heading">
        <h1 id="search-heading">Search</h1>
        <p className="demo-muted">Type a word from a title or description in the search box.</p>
      </section>
    );
  }
  return <SearchResults q={q} pageSize={pageSize} />;
}

function SearchResults({ q, pageSize }: { q: string; pageSize: number }) {
  const [params] = useSearchParams();
  const key = params.toString();
  // biome-ignore lint/correctness/useExhaustiveDependencies: the URL's query string is the key
  const query = useMemo(() => queryFromUrl(params, q, pageSize), [key, q, pageSize]);
  const result = useVideos(query);
  const [, setParams] = useSearchParams();
  const filtered = FILTERS.some((name) => params.get(name));
  const clearFilters = () => setParams(withoutFilters(params));
  return (
    <section aria-labelledby="search-heading">
      <h1 id="search-heading">{q ? `Results for “${q}”` : `Videos tagged ${tagList(params)}`}</h1>
      <SearchFilters onClear={filtered ? clearFilters : undefined} />
      <VideoGrid
        result={result}
        empty={
          filtered ? (
            <>
              <p>{q ? `The filters hide every video matching “${q}”.` : "No videos match these filters."}</p>
              <button type="button" className="demo-button" onClick={clearFilters}>
                Clear filters and show every match
              </button>
            </>
          ) : (
            <p>{q ? `No videos match “${q}”.` : "No videos have these tags."}</p>
          )
        }
      />
    </section>
  );
}

function tagList(params: URLSearchParams): string {
  return (params.get("tags") ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => `#${t}`)
    .join(" ");
}

function withoutFilters(params: URLSearchParams): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const name of FILTERS) next.delete(name);
  return next;
}

/**
 * Sort and filter controls; each change rewrites the URL, which drives the search. `onClear`,
 * given while a filter is set, adds a control that removes them all.
 */
function SearchFilters({ onClear }: { onClear?: () => void }) {
  const [params, setParams] = useSearchParams();
  const set = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next);
  };
  const select = (name: string, label: string, options: { value: string; label: string }[], anyLabel: string) => (
    <label className="demo-filter">
      {label}
      <select value={params.get(name) ?? ""} onChange={(e) => set(name, e.target.value)}>
        <option value="">{anyLabel}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    // biome-ignore lint/a11y/useSemanticElements: a group of live filters, not a form that submits
    <div role="group" aria-label="Search filters" className="demo-filters">
      {select(
        "sort",
        "Sort by",
        SORTS.filter((s) => s.value !== "relevance"),
        "Relevance",
      )}
      {select("duration", "Duration", DURATIONS, "Any length")}
      {select(
        "uploaded",
        "Upload date",
        [
          { value: "day", label: "Today" },
          { value: "week", label: "This week" },
          { value: "month", label: "This month" },
          { value: "year", label: "This year" },
        ],
        "Any time",
      )}
      {select("quality", "Quality", QUALITIES, "Any quality")}
      <label className="demo-filter">
        Tags
        <input
          // A new value in the URL (e.g. filters cleared) resets the box.
          key={params.get("tags") ?? ""}
          type="text"
          defaultValue={params.get("tags") ?? ""}
          placeholder="e.g. cats,funny"
          onBlur={(e) => set("tags", e.target.value.trim())}
          onKeyDown={(e) => {
            if (e.key === "Enter") set("tags", e.currentTarget.value.trim());
          }}
        />
      </label>
      {onClear && (
        <button type="button" className="demo-button demo-button--plain demo-filters-clear" onClick={onClear}>
          Clear filters
        </button>
      )}
    </div>
  );
}
