import { useVideos } from "@reelkit/react";
import { Link } from "react-router";
import { VideoGrid } from "../components/video-grid.js";
import { useSession } from "../session.js";
import { useDocumentTitle } from "../use-document-title.js";

export function HomePage({ pageSize }: { pageSize: number }) {
  useDocumentTitle("");
  const result = useVideos({ limit: pageSize });
  const { user } = useSession();
  return (
    <section aria-labelledby="home-heading">
      <h1 id="home-heading">Latest videos</h1>
      <VideoGrid
        result={result}
        empty={
          <p>
            No videos yet.{" "}
            {user === null ? (
              <Link to="/sign-in?next=%2Fupload">Sign in to upload the first one</Link>
            ) : (
              <Link to="/upload">Upload the first one</Link>
            )}
          </p>
        }
      />
    </section>
  );
}
