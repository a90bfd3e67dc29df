import type { SearchOptions, Video } from "@reelkit/sdk";
import { useCallback, useEffect, useRef, useState } from "react";
import { useReelkitClient } from "./context.js";

export interface UseVideosResult {
  videos: Video[];
  error: Error | null;
  loading: boolean;
  hasMore: boolean;
  loadMore(): void;
  reload(): void;
}

/** What useVideos takes: the list query (sort, filters, limit) and, to search, `q`. */
export type UseVideosQuery = Omit<SearchOptions, "q" | "cursor"> & { q?: string };

/**
 * Lists (or, with `q`, searches) videos with cursor pagination; sorts and filters (duration,
 * publish dates, minimum height, tags, owner) pass through to the API.
 */
export function useVideos(query: UseVideosQuery = {}): UseVideosResult {
  const client = useReelkitClient();
  const key = JSON.stringify(query);
  const [videos, setVideos] = useState<Video[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const inFlight = useRef<AbortController | null>(null);

  const fetchPage = useCallback(
    (after: string | undefined, append: boolean) => {
      inFlight.current?.abort();
      const controller = new AbortController();
      inFlight.current = controller;
      const { q, ...rest } = JSON.parse(key) as UseVideosQuery;
      const params = { ...rest, ...(after ? { cursor: after } : {}) };
      setLoading(true);
      setError(null);
      const request = q ? client.search({ ...params, q }, controller) : client.list(params, controller);
      request.then(
        (page) => {
          if (controller.signal.aborted) return;
          setVideos((prev) => (append ? [...prev, ...page.items] : page.items));
          setCursor(page.nextCursor);
          setLoading(false);
        },
        (e: unknown) => {
          if (controller.signal.aborted) return;
          setError(e instanceof Error ? e : new Error(String(e)));
          setLoading(false);
        },
      );
    },
    [client, key],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: `generation` forces a reload
  useEffect(() => {
    setVideos([]);
    setCursor(null);
    fetchPage(undefined, false);
    return () => inFlight.current?.abort();
  }, [fetchPage, generation]);

  const loadMore = useCallback(() => {
    if (cursor && !loading) fetchPage(cursor, true);
  }, [cursor, loading, fetchPage]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);

  return { videos, error, loading, hasMore: cursor !== null, loadMore, reload };
}
