import { ReelkitProvider, Uploader, type UploadTokenRequest, VideoPlayer } from "@reelkit/react";
import type { ReelkitClient, UploadToken } from "@reelkit/sdk";
import { useEffect, useState } from "react";

interface Clip {
  passthrough: string;
  fileName: string;
  videoId: string | null;
  status: string | null;
  lastEvent: string | null;
}

/** Asks this site's backend for an upload token carrying the choices made in the form. */
async function uploadToken({ file, visibility, tags }: UploadTokenRequest): Promise<UploadToken> {
  const response = await fetch("/api/upload-token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ fileName: (file as File).name, visibility, tags }),
  });
  if (!response.ok) throw new Error(`Could not get an upload token (HTTP ${response.status})`);
  return (await response.json()) as UploadToken;
}

/** What the backend learnt from webhooks, polled while the page is open. */
function useClips(): Clip[] {
  const [clips, setClips] = useState<Clip[]>([]);
  useEffect(() => {
    let stopped = false;
    const load = async () => {
      const response = await fetch("/api/clips").catch(() => null);
      if (!stopped && response?.ok) setClips(((await response.json()) as { clips: Clip[] }).clips);
    };
    void load();
    const timer = setInterval(load, 2000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
  return clips;
}

export function App({ client }: { client: ReelkitClient }) {
  const clips = useClips();
  return (
    <ReelkitProvider client={client}>
      <main style={{ maxWidth: 720, margin: "2rem auto", fontFamily: "system-ui, sans-serif" }}>
        <h1>Clips</h1>
        <Uploader multiple chooseVisibility chooseTags getToken={uploadToken} />
        <h2>Your clips</h2>
        <ul aria-label="Clips">
          {clips.map((clip) => (
            <li key={clip.passthrough} data-passthrough={clip.passthrough}>
              <strong>{clip.fileName}</strong> — {clip.status ?? "waiting for the upload"}
              {clip.status === "READY" && clip.videoId && <VideoPlayer videoId={clip.videoId} />}
            </li>
          ))}
        </ul>
      </main>
    </ReelkitProvider>
  );
}
