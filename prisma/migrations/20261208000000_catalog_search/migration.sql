-- Catalog at scale: indexed full-text search, typo-tolerant title matching, keyset indexes for
-- every sort, tags and a view counter.

-- The text-search configuration (language) of the stored search vector. The server replaces this
-- function when REELKIT_SEARCH_LANGUAGE changes and rewrites the vectors (see database.ts);
-- declared IMMUTABLE so a generated column may use it, which holds between such rewrites.
CREATE OR REPLACE FUNCTION "reelkit_search_language"() RETURNS regconfig
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 'simple'::regconfig $$;

-- Title (weight A) ranks above description (weight B).
ALTER TABLE "video" ADD COLUMN "search" tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector("reelkit_search_language"(), "title"), 'A') ||
  setweight(to_tsvector("reelkit_search_language"(), "description"), 'B')
) STORED;

ALTER TABLE "video" ADD COLUMN "tags" TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE "video" ADD COLUMN "view_count" BIGINT NOT NULL DEFAULT 0;

-- CreateIndex
CREATE INDEX "video_search_idx" ON "video" USING GIN ("search");

-- CreateIndex
CREATE INDEX "video_tags_idx" ON "video" USING GIN ("tags");

-- CreateIndex: keyset order for "longest"
CREATE INDEX "video_status_duration_idx" ON "video"("status", "duration" DESC, "id" DESC);

-- CreateIndex: keyset order for "most viewed"
CREATE INDEX "video_status_views_idx" ON "video"("status", "view_count" DESC, "id" DESC);
