import type { ChangeFeed } from "../db/change-feed.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import { CatalogQueries } from "./catalog-queries.js";
import { TranscodeProjection } from "./transcode-projection.js";
import { TypeaheadMemory, type TypeaheadMemoryOptions } from "./typeahead-index.js";
import { UploadLifecycle } from "./upload-lifecycle.js";
import type { VideoCache } from "./video-cache.js";
import { VideoChanges } from "./video-changes.js";
import { VideoEdits } from "./video-edits.js";
import { type Page, VideoRepository } from "./video-repository.js";
import { ViewCounter } from "./view-counter.js";

export type { ListOptions, SearchOptions } from "./catalog-queries.js";
export { InvalidCursorError, isUuid } from "./catalog-query.js";
export type { CreateForUploadInput, FinishUploadInput, FinishUploadResult, UploadCreator } from "./upload-lifecycle.js";
export type { VideoChange } from "./video-changes.js";
export { normalizeTags, type UpdateInput } from "./video-edits.js";
export type { Page } from "./video-repository.js";

export interface CatalogOptions {
  /** Caches hot video reads and public pages; invalidated through the change stream. None when absent. */
  cache?: VideoCache<Page>;
  /** The feed the change stream travels on (PostgreSQL LISTEN/NOTIFY); in-process when absent. */
  feed?: ChangeFeed;
  /** Playback-session view counting; one with default limits when absent. */
  views?: ViewCounter;
  /** Keep the typeahead's titles in memory (TypeaheadMemory); the database answers when absent. */
  typeahead?: TypeaheadMemoryOptions;
}

/**
 * The video catalog, the only code that writes the `video` and `outbox` tables, in the parts
 * that change together: uploads, the transcoder's events, reads, owners' edits — over one
 * repository that publishes every committed change on one stream.
 */
export interface Catalog {
  uploads: UploadLifecycle;
  transcodes: TranscodeProjection;
  queries: CatalogQueries;
  edits: VideoEdits;
  /** Every committed change of a video, heard by every instance on the database. */
  changes: VideoChanges;
  /** Resolves when the database answers a query (readiness). */
  ping(): Promise<void>;
}

export function createCatalog(prisma: PrismaClient, options: CatalogOptions = {}): Catalog {
  const changes = new VideoChanges(options.feed);
  const videos = new VideoRepository(prisma, changes, options.cache ?? null);
  return {
    uploads: new UploadLifecycle(videos),
    transcodes: new TranscodeProjection(videos),
    queries: new CatalogQueries(
      videos,
      options.views ?? new ViewCounter(prisma),
      options.typeahead ? new TypeaheadMemory(prisma, changes, options.typeahead) : null,
    ),
    edits: new VideoEdits(videos),
    changes,
    ping: () => videos.ping(),
  };
}
