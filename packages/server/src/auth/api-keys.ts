import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { PrismaClient, Visibility } from "../generated/prisma/client.js";
import type { ApiKeyScope, UploadTokenPrincipal, UserPrincipal } from "./principal.js";

/** Every API key starts with this, so a bearer token says what it is (and secret scanners see it). */
export const API_KEY_PREFIX = "rk_";
/** Every upload token starts with this. */
export const UPLOAD_TOKEN_PREFIX = "rkut_";
/** The one route an "upload"-scoped key may call. */
export const UPLOAD_TOKENS_PATH = "/api/upload-tokens";
/** How much of a key is kept in clear to tell keys apart in a list. */
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 6;
/** lastUsedAt is written at most this often per key: a busy key costs no write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** 256 random bits after the prefix: too many to guess, so a fast hash is enough at rest. */
function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

export function sha256(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  scope: ApiKeyScope;
  maxUnfinishedUploads: number | null;
  uploadsPerMinute: number | null;
}

/** What a key may be created or changed with besides its name. */
export interface ApiKeySettings {
  scope?: ApiKeyScope;
  /** null: the server's default. */
  maxUnfinishedUploads?: number | null;
  uploadsPerMinute?: number | null;
}

/** The video an upload token creates, as its minting backend set it. */
export interface UploadTokenVideo {
  title: string | null;
  description: string | null;
  visibility: Visibility;
  tags: string[];
  contentTypes: string[];
  passthrough: string | null;
}

export interface MintUploadTokenInput extends UploadTokenVideo {
  apiKeyId: string;
  ownerId: string;
  maxSize: number;
  expiresAt: Date;
}

/** Why an upload token was refused: unknown (or its key revoked), or past its expiry. */
export type UploadTokenRefusal = "invalid" | "expired";

const INFO = {
  id: true,
  name: true,
  prefix: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
  scope: true,
  maxUnfinishedUploads: true,
  uploadsPerMinute: true,
} as const;

function toInfo(row: Omit<ApiKeyInfo, "scope"> & { scope: string }): ApiKeyInfo {
  return { ...row, scope: row.scope === "upload" ? "upload" : "full" };
}

/** API keys and the upload tokens minted with them, in Reelkit's own tables. */
export class ApiKeyService {
  constructor(private readonly prisma: PrismaClient) {}

  /** A new key for `userId`: the key itself is in the result only, never stored. */
  async create(
    userId: string,
    name: string,
    settings: ApiKeySettings = {},
  ): Promise<{ key: string; info: ApiKeyInfo }> {
    const key = newSecret(API_KEY_PREFIX);
    const info = await this.prisma.apiKey.create({
      data: {
        id: randomUUID(),
        userId,
        name,
        prefix: key.slice(0, SHOWN_PREFIX_LENGTH),
        hash: sha256(key),
        scope: settings.scope ?? "full",
        maxUnfinishedUploads: settings.maxUnfinishedUploads ?? null,
        uploadsPerMinute: settings.uploadsPerMinute ?? null,
      },
      select: INFO,
    });
    return { key, info: toInfo(info) };
  }

  /** The user's keys, newest first, revoked ones included (with their revocation time). */
  async list(userId: string): Promise<ApiKeyInfo[]> {
    const rows = await this.prisma.apiKey.findMany({ where: { userId }, orderBy: { createdAt: "desc" }, select: INFO });
    return rows.map(toInfo);
  }

  /** Renames one of the user's keys or changes its limits; null: no such key. */
  async update(
    userId: string,
    id: string,
    patch: { name?: string } & Omit<ApiKeySettings, "scope">,
  ): Promise<ApiKeyInfo | null> {
    const { count } = await this.prisma.apiKey.updateMany({ where: { id, userId }, data: patch });
    if (count === 0) return null;
    return toInfo(await this.prisma.apiKey.findUniqueOrThrow({ where: { id }, select: INFO }));
  }

  /** Revokes one of the user's keys (and with it the upload tokens it minted); false: no such key. */
  async revoke(userId: string, id: string): Promise<boolean> {
    const key = await this.prisma.apiKey.findFirst({ where: { id, userId }, select: { revokedAt: true } });
    if (!key) return false;
    if (!key.revokedAt) await this.prisma.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
    return true;
  }

  /** The user a live key acts for, or null (unknown or revoked); records when it was last used. */
  async verify(key: string): Promise<(UserPrincipal & { apiKeyId: string }) | null> {
    if (!key.startsWith(API_KEY_PREFIX)) return null;
    const row = await this.prisma.apiKey.findUnique({
      where: { hash: sha256(key) },
      select: {
        id: true,
        userId: true,
        revokedAt: true,
        lastUsedAt: true,
        scope: true,
        user: { select: { role: true } },
      },
    });
    if (!row || row.revokedAt) return null;
    const now = new Date();
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      await this.prisma.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: now } });
    }
    return {
      kind: "user",
      userId: row.userId,
      isAdmin: row.user.role === "admin",
      via: "api-key",
      apiKeyId: row.id,
      apiKeyScope: row.scope === "upload" ? "upload" : "full",
    };
  }

  async userExists(id: string): Promise<boolean> {
    return (await this.prisma.user.count({ where: { id } })) > 0;
  }

  async mintUploadToken(input: MintUploadTokenInput): Promise<{ token: string; id: string }> {
    const token = newSecret(UPLOAD_TOKEN_PREFIX);
    const id = randomUUID();
    await this.prisma.uploadToken.create({
      data: {
        id,
        hash: sha256(token),
        apiKeyId: input.apiKeyId,
        ownerId: input.ownerId,
        maxSize: BigInt(input.maxSize),
        expiresAt: input.expiresAt,
        title: input.title,
        description: input.description,
        visibility: input.visibility,
        tags: input.tags,
        contentTypes: input.contentTypes,
        passthrough: input.passthrough,
      },
    });
    return { token, id };
  }

  /**
   * The upload token's principal while it is unexpired and its API key is not revoked; else why
   * not ("expired" only for a real token of a live key, so a guess learns nothing).
   */
  async verifyUploadToken(token: string): Promise<UploadTokenPrincipal | UploadTokenRefusal> {
    if (!token.startsWith(UPLOAD_TOKEN_PREFIX)) return "invalid";
    const row = await this.prisma.uploadToken.findUnique({
      where: { hash: sha256(token) },
      include: { apiKey: { select: { revokedAt: true, maxUnfinishedUploads: true, uploadsPerMinute: true } } },
    });
    if (!row || row.apiKey.revokedAt) return "invalid";
    if (row.expiresAt.getTime() <= Date.now()) return "expired";
    return {
      kind: "upload-token",
      tokenId: row.id,
      apiKeyId: row.apiKeyId,
      ownerId: row.ownerId,
      maxSize: Number(row.maxSize),
      expiresAt: row.expiresAt,
      limits: { maxUnfinishedUploads: row.apiKey.maxUnfinishedUploads, uploadsPerMinute: row.apiKey.uploadsPerMinute },
      video: {
        title: row.title,
        description: row.description,
        visibility: row.visibility,
        tags: row.tags,
        contentTypes: row.contentTypes,
        passthrough: row.passthrough,
      },
    };
  }

  /** Unfinished uploads created with this key's upload tokens (the per-key cap). */
  async countUploadingOfKey(apiKeyId: string): Promise<number> {
    const [row] = await this.prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM "video" v JOIN "upload_token" t ON t."id" = v."upload_token_id"
      WHERE t."api_key_id" = ${apiKeyId} AND v."status" = 'UPLOADING'`;
    return Number(row?.n ?? 0);
  }

  /** Marks the token used by an upload creation; false when it had created one already. */
  async claimUploadToken(id: string): Promise<boolean> {
    const { count } = await this.prisma.uploadToken.updateMany({
      where: { id, usedAt: null },
      data: { usedAt: new Date() },
    });
    return count === 1;
  }

  /** Gives a claimed token back when the upload it was claimed for was never created. */
  async releaseUploadToken(id: string): Promise<void> {
    await this.prisma.uploadToken.updateMany({ where: { id, usedAt: { not: null } }, data: { usedAt: null } });
  }
}
