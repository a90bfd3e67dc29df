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
    return verifyToken({ secret: this.secret, purpose: "reelkit-media", videoId, token, now: this.now() });
  }

  private sign(videoId: string, exp: number): string {
    return signToken(this.secret, "reelkit-media", videoId, exp);
  }
}

/**
 * Embed tokens: what `/embed/:id?token=…` carries so that a PRIVATE video plays in a page where
 * its owner is not signed in. Same form as a media token, another purpose in the HMAC (neither
 * passes for the other), and a lifetime the owner picks when asking for the link.
 */
export class EmbedSigner {
  constructor(
    private readonly secret: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The token and its expiry, valid `ttlSeconds` from now. */
  token(videoId: string, ttlSeconds: number): { token: string; expiresAt: Date } {
    const exp = Math.floor(this.now() / 1000) + ttlSeconds;
    return {
      token: `${exp}.${signToken(this.secret, "reelkit-embed", videoId, exp)}`,
      expiresAt: new Date(exp * 1000),
    };
  }

  verify(videoId: string, token: string): TokenCheck {
    return verifyToken({ secret: this.secret, purpose: "reelkit-embed", videoId, token, now: this.now() });
  }
}

function signToken(secret: string, purpose: string, videoId: string, exp: number): string {
  return createHmac("sha256", secret).update(`${purpose}\n${videoId}\n${exp}`).digest("base64url");
}

function verifyToken(o: { secret: string; purpose: string; videoId: string; token: string; now: number }): TokenCheck {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(o.token);
  if (!m) return "invalid";
  const exp = Number(m[1]);
  const expected = Buffer.from(signToken(o.secret, o.purpose, o.videoId, exp));
  const given = Buffer.from(m[2] as string);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return "invalid";
  return exp * 1000 < o.now ? "expired" : "ok";
}
