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
}

/** A third-party site's browser, uploading on behalf of `ownerId` with a token minted by an API key. */
export interface UploadTokenPrincipal {
  kind: "upload-token";
  tokenId: string;
  ownerId: string;
  maxSize: number;
  title: string | null;
}

/** The user a principal acts for: the signed-in user, or the owner an upload token names. */
export function actingUserId(p: Principal): string {
  return p.kind === "user" ? p.userId : p.ownerId;
}
