import { loadStoryboard, type StoryboardCue } from "@reelkit/sdk";
import { useEffect, useState } from "react";

/**
 * Loads a storyboard VTT map. A preview is an enhancement: a missing or broken map just means
 * the seek bar shows the time without a thumbnail, so errors are not surfaced as player errors.
 */
export function useStoryboard(vttUrl: string | null | undefined): StoryboardCue[] | null {
  const [cues, setCues] = useState<StoryboardCue[] | null>(null);
  useEffect(() => {
    setCues(null);
    if (!vttUrl) return;
    const controller = new AbortController();
    // Resolve against the page so a root-relative map still yields absolute sprite URLs.
    const absolute = new URL(vttUrl, document.baseURI).href;
    loadStoryboard(absolute, { signal: controller.signal }).then(
      (loaded) => !controller.signal.aborted && setCues(loaded),
      () => undefined,
    );
    return () => controller.abort();
  }, [vttUrl]);
  return cues;
}
