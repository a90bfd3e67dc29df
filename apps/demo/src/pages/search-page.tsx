import { useVideos } from "@reelkit/react";
import { useSearchParams } from "react-router";
import { VideoGrid } from "../components/video-grid.js";
import { useDocumentTitle } from "../use-document-title.js";

export function SearchPage({ pageSize }: { pageSize: number }) {
  const [params] = useSearchParams();
  const q = params.get("q")?.trim() ?? "";
  useDocumentTitle(q ? `Search: ${q}` : "Search");
  if (!q) {
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
  const result = useVideos({ q, limit: pageSize });
  return (
    <section aria-labelledby="search-heading">
      <h1 id="search-heading">Results for “{q}”</h1>
      <VideoGrid result={result} empty={`No videos match “${q}”.`} />
    </section>
  );
}
