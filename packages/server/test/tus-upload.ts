import * as tus from "tus-js-client";

/** A whole tus upload with tus-js-client; resolves with the upload URL and the video id the server named. */
export function tusUpload(
  base: string,
  data: Buffer,
  metadata: Record<string, string>,
  chunkSize = 64 * 1024,
  /** Authentication headers (a signed-in user's bearer, an upload token's). */
  headers: Record<string, string> = {},
) {
  let videoId: string | null = null;
  return new Promise<{ url: string; videoId: string | null }>((resolve, reject) => {
    const u = new tus.Upload(data, {
      endpoint: `${base}/api/uploads`,
      metadata,
      chunkSize,
      retryDelays: [],
      headers,
      onAfterResponse: (req, res) => {
        if (req.getMethod() === "POST") videoId = res.getHeader("Reelkit-Video-Id") ?? null;
      },
      onError: reject,
      onSuccess: () => resolve({ url: u.url as string, videoId }),
    });
    u.start();
  });
}

/** Uploads a file in 8 MiB chunks as `auth` (a TestUser's `bearer`); resolves with the id of the video the server made. */
export async function uploadFile(
  base: string,
  data: Buffer,
  title: string,
  auth: Record<string, string>,
): Promise<string> {
  const { videoId } = await tusUpload(base, data, { filename: `${title}.mp4`, title }, 8 * 1024 * 1024, auth);
  if (!videoId) throw new Error("no Reelkit-Video-Id header");
  return videoId;
}
