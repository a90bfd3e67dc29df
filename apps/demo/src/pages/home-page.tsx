import { useVideos } from "@reelkit/react";
import { VideoGrid } from "../components/video-grid.js";
import { useDocumentTitle } from "../use-document-title.js";

export function HomePage({ pageSize }: { pageSize: number }) {
  useDocumentTitle("");
  const result = useVideos({ limit: pageSize });
  return (
    <section aria-labelledby="home-heading">
      <h1 id="home-heading">Latest videos</h1>
      <VideoGrid result={result} empty="No videos yet. Upload the first one!" />
    </section>
  );
}
