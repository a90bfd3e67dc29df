import { useEffect } from "react";

/** Screen readers announce the page title on navigation; keep it specific to the page. */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Reelkit demo` : "Reelkit demo";
  }, [title]);
}
