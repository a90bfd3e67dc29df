import { Link } from "react-router";
import { useDocumentTitle } from "../use-document-title.js";

export function NotFoundPage() {
  useDocumentTitle("Page not found");
  return (
    <section aria-labelledby="not-found-heading">
      <h1 id="not-found-heading">Page not found</h1>
      <p>
        <Link to="/">Browse all videos</Link>
      </p>
    </section>
  );
}
