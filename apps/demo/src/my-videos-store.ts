import { useCallback, useEffect, useState } from "react";

/** The demo has no accounts: "my videos" are the ids this browser uploaded, kept in localStorage. */
export const MY_VIDEOS_KEY = "reelkit-demo:my-videos";

export function readMyVideoIds(): string[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(MY_VIDEOS_KEY) ?? "[]");
    return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === "string") : [];
  } catch {
    return [];
  }
}

function write(ids: string[]): void {
  localStorage.setItem(MY_VIDEOS_KEY, JSON.stringify(ids));
}

/** Newest first; remembering an id twice keeps one entry. */
export function rememberMyVideo(id: string): void {
  write([id, ...readMyVideoIds().filter((other) => other !== id)]);
}

export function forgetMyVideo(id: string): void {
  write(readMyVideoIds().filter((other) => other !== id));
}

/** The remembered ids, kept in sync with other tabs. */
export function useMyVideoIds(): { ids: string[]; forget(id: string): void } {
  const [ids, setIds] = useState(readMyVideoIds);
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if (e.key === MY_VIDEOS_KEY) setIds(readMyVideoIds());
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, []);
  const forget = useCallback((id: string) => {
    forgetMyVideo(id);
    setIds(readMyVideoIds());
  }, []);
  return { ids, forget };
}
