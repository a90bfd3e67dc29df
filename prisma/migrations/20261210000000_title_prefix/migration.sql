-- Typeahead: titles by case-insensitive prefix, over what suggestions may show (READY and
-- PUBLIC) only. text_pattern_ops lets `lower(title) LIKE 'prefix%'` walk a range of the index
-- whatever the database's collation; the title and view count ride along (INCLUDE) so the
-- candidates come from the index alone. Prisma cannot express an expression or partial index:
-- schema.prisma names it in a comment that schema-match.test.ts checks.

-- CreateIndex
CREATE INDEX "video_title_prefix_idx" ON "video" (lower("title") text_pattern_ops) INCLUDE ("title", "view_count")
  WHERE "status" = 'READY' AND "visibility" = 'PUBLIC';
