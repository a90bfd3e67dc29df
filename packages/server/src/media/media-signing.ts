import { createHmac, timingSafeEqual } from "node:crypto";

/** Path prefix of signed media URLs: `/media/s/<token>/videos/<id>/…`. */
export const SIGNED_PREFIX = "s";

export type TokenCheck = "ok" | "expired" | "invalid";

/**
 * Expiring signed media URLs for PRIVATE videos. The token sits in the path, before the key,
 * and covers one video and an expiry: the relative URIs inside HLS playlists (variant
 * playlists, init segments, segments, storyboard images) resolve under the same signed
 * prefix, so every file of the video plays through it and none without it.
 */
export class MediaSigner {
  constructor(
    private readonly secret: string,
    readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** `<expiry seconds>.<signature>` for the video, valid `ttlSeconds` from now. */
  token(videoId: string): string {
    const exp = Math.floor(this.now() / 1000) + this.ttlSeconds;
    return `${exp}.${this.sign(videoId, exp)}`;
  }

  verify(videoId: string, token: string): TokenCheck {
    const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return "invalid";
    const exp = Number(m[1]);
    const expected = Buffer.from(this.sign(videoId, exp));
    const given = Buffer.from(m[2] as string);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return "invalid";
    return exp * 1000 < this.now() ? "expired" : "ok";
  }

  private sign(videoId: string, exp: number): string {
    return createHmac("sha256", this.secret).update(`reelkit-media\n${videoId}\n${exp}`).digest("base64url");
  }
}
