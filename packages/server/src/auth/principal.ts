import type { UploadTokenVideo } from "./api-keys.js";

/** Who is calling. Routes authorize on this, never on raw headers. */
export type Principal = UserPrincipal | UploadTokenPrincipal;

export interface UserPrincipal {
  kind: "user";
  userId: string;
  isAdmin: boolean;
  /** How the request proved it: a cookie is the only one that needs the CSRF origin check. */
  via: "cookie" | "bearer" | "jwt" | "api-key";
  /** The API key that authenticated the request (via "api-key"). */
  apiKeyId?: string;
  /** That key's scope (via "api-key"): an "upload" key only mints upload tokens. */
  apiKeyScope?: ApiKeyScope;
}

/** "full": a key acts as its user; "upload": it only mints upload tokens. */
export type ApiKeyScope = "full" | "upload";

/** A third-party site's browser, uploading on behalf of `ownerId` with a token minted by an API key. */
export interface UploadTokenPrincipal {
  kind: "upload-token";
  tokenId: string;
  /** The API key that minted the token: upload limits apply per key. */
  apiKeyId: string;
  ownerId: string;
  maxSize: number;
  expiresAt: Date;
  /** The key's own limits; null: the server's defaults. */
  limits: { maxUnfinishedUploads: number | null; uploadsPerMinute: number | null };
  /** The video the token creates, as its backend set it. */
  video: UploadTokenVideo;
}

/** The user a principal acts for: the signed-in user, or the owner an upload token names. */
export function actingUserId(p: Principal): string {
  return p.kind === "user" ? p.userId : p.ownerId;
}
