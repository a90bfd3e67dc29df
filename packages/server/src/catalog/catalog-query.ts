/**
 * SQL for catalog reads at scale: keyset cursors, filters and the indexed search query.
 * Pure builders (no I/O); the service runs what they return.
 */
import { Prisma } from "../generated/prisma/client.js";

export const LIST_SORTS = ["newest", "oldest", "longest", "views"] as const;
export type ListSort = (typeof LIST_SORTS)[number];
export type SearchSort = ListSort | "relevance";

/** YouTube's buckets: short under 4 minutes, medium 4–20 minutes, long over 20 minutes. */
export const DURATION_BUCKETS = {
  short: { max: 240 },
  medium: { min: 240, max: 1200 },
  long: { min: 1200 },
} as const satisfies Record<string, { min?: number; max?: number }>;
export type DurationBucket = keyof typeof DURATION_BUCKETS;

export interface CatalogFilters {
  duration?: DurationBucket;
  /** Seconds, inclusive. */
  minDuration?: number;
  /** Seconds, exclusive. */
  maxDuration?: number;
  /** Published at or after. */
  publishedAfter?: Date;
  /** Published before. */
  publishedBefore?: Date;
  /** Minimum height in pixels of the largest rendition (720 = "HD"). */
  minHeight?: number;
  /** Every one of these tags. */
  tags?: string[];
  ownerId?: string;
}

/** Thrown for a cursor that this service did not produce. */
export class InvalidCursorError extends Error {
  constructor() {
    super("invalid cursor");
    this.name = "InvalidCursorError";
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(id: string): boolean {
  return UUID_RE.test(id);
}

/** Latest instant a timestamptz cursor may hold (9999-12-31T23:59:59.999Z); the earliest is the epoch. */
const MAX_EPOCH_MS = 253_402_300_799_999;
/** Larger than any relevance score the search query computes. */
const MAX_SCORE = 1_000;
/** Longest duration a cursor may carry: a year in seconds. */
const MAX_DURATION = 31_536_000;

/**
 * A keyset position: the sort key `k` and id `i` of the last row of a page, for mode `m`
 * ("l" list, "s" search, "m" the caller's own videos) and sort `s`. Validated against the ranges this service issues, so a
 * crafted cursor is an InvalidCursorError (400), never a database error.
 */
export interface Cursor {
  m: "l" | "s" | "m";
  s: SearchSort;
  k: number;
  i: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify({ m: c.m, s: c.s, k: c.k, i: c.i })).toString("base64url");
}

function keyInRange(sort: SearchSort, k: number): boolean {
  if (!Number.isFinite(k) || k < 0) return false;
  switch (sort) {
    case "newest":
    case "oldest":
      return Number.isInteger(k) && k <= MAX_EPOCH_MS;
    case "views":
      return Number.isSafeInteger(k);
    case "longest":
      return k <= MAX_DURATION;
    case "relevance":
      return k <= MAX_SCORE;
  }
}

/** Decodes a cursor issued for `mode` and `sort`; anything else throws InvalidCursorError. */
export function decodeCursor(raw: string, mode: Cursor["m"], sort: SearchSort): Cursor {
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw new InvalidCursorError();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw new InvalidCursorError();
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InvalidCursorError();
  const c = value as Record<string, unknown>;
  if (Object.keys(c).length !== 4) throw new InvalidCursorError();
  if (c.m !== mode || c.s !== sort) throw new InvalidCursorError();
  if (typeof c.k !== "number" || !keyInRange(sort, c.k)) throw new InvalidCursorError();
  if (typeof c.i !== "string" || !isUuid(c.i)) throw new InvalidCursorError();
  return { m: mode, s: sort, k: c.k, i: c.i };
}

/** Every column of `video` under its Prisma field name, so a raw row is a `Video`. */
export const VIDEO_COLUMNS = Prisma.raw(
  [
    `v."id"::text AS "id"`,
    `v."upload_id" AS "uploadId"`,
    `v."owner_id" AS "ownerId"`,
    `v."title"`,
    `v."description"`,
    `v."filename"`,
    `v."status"::text AS "status"`,
    `v."failure_reason" AS "failureReason"`,
    `v."progress"`,
    `v."attempt"`,
    `v."source_key" AS "sourceKey"`,
    `v."source_size" AS "sourceSize"`,
    `v."duration"`,
    `v."width"`,
    `v."height"`,
    `v."frame_rate" AS "frameRate"`,
    `v."renditions"`,
    `v."master_key" AS "masterKey"`,
    `v."poster_key" AS "posterKey"`,
    `v."poster_time" AS "posterTime"`,
    `v."storyboard_key" AS "storyboardKey"`,
    `v."storyboard_vtt_key" AS "storyboardVttKey"`,
    `v."created_at" AS "createdAt"`,
    `v."updated_at" AS "updatedAt"`,
    `v."published_at" AS "publishedAt"`,
    `v."tags"`,
    `v."view_count" AS "viewCount"`,
    `v."upload_token_id" AS "uploadTokenId"`,
    `v."visibility"::text AS "visibility"`,
    `v."passthrough"`,
    `v."captions"`,
    `v."chapters"`,
    `v."downloads"`,
  ].join(", "),
);

/** `AND …` conditions on alias `v` for the filters (empty when none). */
export function filterSql(f: CatalogFilters): Prisma.Sql {
  const parts: Prisma.Sql[] = [];
  const bucket = f.duration ? (DURATION_BUCKETS[f.duration] as { min?: number; max?: number }) : undefined;
  if (bucket?.min !== undefined) parts.push(Prisma.sql`v."duration" >= ${bucket.min}`);
  if (bucket?.max !== undefined) parts.push(Prisma.sql`v."duration" < ${bucket.max}`);
  if (f.minDuration !== undefined) parts.push(Prisma.sql`v."duration" >= ${f.minDuration}`);
  if (f.maxDuration !== undefined) parts.push(Prisma.sql`v."duration" < ${f.maxDuration}`);
  if (f.publishedAfter) parts.push(Prisma.sql`v."published_at" >= ${f.publishedAfter}`);
  if (f.publishedBefore) parts.push(Prisma.sql`v."published_at" < ${f.publishedBefore}`);
  if (f.minHeight !== undefined) parts.push(Prisma.sql`v."height" >= ${f.minHeight}`);
  if (f.tags?.length) parts.push(Prisma.sql`v."tags" @> ${f.tags}::text[]`);
  if (f.ownerId !== undefined) parts.push(Prisma.sql`v."owner_id" = ${f.ownerId}`);
  if (parts.length === 0) return Prisma.empty;
  return Prisma.sql` AND ${Prisma.join(parts, " AND ")}`;
}

/** The sort column of a list (native type, so the matching composite index serves the keyset). */
function listKey(sort: ListSort): { column: Prisma.Sql; desc: boolean; param: (k: number) => unknown } {
  switch (sort) {
    case "newest":
      return { column: Prisma.raw(`v."published_at"`), desc: true, param: (k) => new Date(k) };
    case "oldest":
      return { column: Prisma.raw(`v."published_at"`), desc: false, param: (k) => new Date(k) };
    case "longest":
      return { column: Prisma.raw(`v."duration"`), desc: true, param: (k) => k };
    case "views":
      return { column: Prisma.raw(`v."view_count"`), desc: true, param: (k) => BigInt(k) };
  }
}

/** The cursor key of a row for `sort`. */
export function keyOf(sort: ListSort, row: { publishedAt: Date | null; duration: number | null; viewCount: bigint }) {
  switch (sort) {
    case "newest":
    case "oldest":
      return row.publishedAt?.getTime() ?? 0;
    case "longest":
      return row.duration ?? 0;
    case "views":
      return Number(row.viewCount);
  }
}

export interface ListQueryInput {
  sort: ListSort;
  filters: CatalogFilters;
  after: Cursor | null;
  /** Rows to fetch (page size + 1, to know whether there is a next page). */
  take: number;
}

/** READY PUBLIC videos in `sort` order after the cursor: `(key, id) < (…)` over the (status, key, id) index. */
export function listQuery({ sort, filters, after, take }: ListQueryInput): Prisma.Sql {
  const { column, desc, param } = listKey(sort);
  const cmp = Prisma.raw(desc ? "<" : ">");
  const dir = Prisma.raw(desc ? "DESC" : "ASC");
  const keyset = after
    ? Prisma.sql` AND (${column}, v."id") ${cmp} (${param(after.k)}, ${after.i}::uuid)`
    : Prisma.empty;
  return Prisma.sql`
    SELECT ${VIDEO_COLUMNS} FROM "video" v
     WHERE v."status" = 'READY' AND v."visibility" = 'PUBLIC' AND ${column} IS NOT NULL${filterSql(filters)}${keyset}
     ORDER BY ${column} ${dir}, v."id" ${dir}
     LIMIT ${take}`;
}

/**
 * Search finds at most this many candidates per index (the newest matches), then ranks only
 * those: the cost of a query is bounded whatever the catalog size or how common the word is.
 */
export const SEARCH_CANDIDATES = 1000;
/** Trigram (typo) matches are looked up when full-text search finds fewer than this many videos. */
export const TYPO_FALLBACK_BELOW = 50;

export interface SearchQueryInput {
  q: string;
  sort: SearchSort;
  filters: CatalogFilters;
  after: Cursor | null;
  take: number;
}

/** The float8 sort key of a scored candidate `v` (with `tsq` in scope). */
function searchKey(sort: SearchSort): { expr: Prisma.Sql; desc: boolean } {
  switch (sort) {
    case "relevance":
      // Matching every word outranks a typo match; then ts_rank (title weight A above
      // description B) plus how closely the title contains the query.
      return {
        expr: Prisma.raw(
          `((CASE WHEN v."search" @@ p.tsq THEN 1 ELSE 0 END) + ts_rank(v."search", p.tsq) + word_similarity(p.q, v."title"))::float8`,
        ),
        desc: true,
      };
    case "newest":
    case "oldest":
      return {
        expr: Prisma.raw(`floor(extract(epoch FROM v."published_at") * 1000)::float8`),
        desc: sort === "newest",
      };
    case "longest":
      return { expr: Prisma.raw(`v."duration"::float8`), desc: true };
    case "views":
      return { expr: Prisma.raw(`v."view_count"::float8`), desc: true };
  }
}

/**
 * Indexed search: candidates come from the GIN full-text index (every word, weighted vector)
 * and, when that finds few, from the trigram GIN index on titles (`title %> q`, word
 * similarity, so a misspelt word still matches); each source is capped at SEARCH_CANDIDATES.
 * Only the candidates are scored and sorted, and pages continue from a `(key, id)` keyset.
 */
export function searchQuery({ q, sort, filters, after, take }: SearchQueryInput): Prisma.Sql {
  const f = filterSql(filters);
  const { expr, desc } = searchKey(sort);
  const cmp = Prisma.raw(desc ? "<" : ">");
  const dir = Prisma.raw(desc ? "DESC" : "ASC");
  const keyset = after
    ? Prisma.sql` WHERE (s."sortKey", s."id"::uuid) ${cmp} (${after.k}::float8, ${after.i}::uuid)`
    : Prisma.empty;
  // The query is inlined (not a CTE) so the planner sees a constant tsquery and can use the
  // column statistics: newest-first index walk for a common word, GIN bitmap for a rare one.
  const tsq = Prisma.sql`websearch_to_tsquery("reelkit_search_language"(), ${q}::text)`;
  return Prisma.sql`
    WITH fts AS MATERIALIZED (
      SELECT v."id" FROM "video" v
       WHERE v."status" = 'READY' AND v."visibility" = 'PUBLIC' AND v."search" @@ ${tsq}${f}
       ORDER BY v."published_at" DESC
       LIMIT ${SEARCH_CANDIDATES}
    ),
    typo AS MATERIALIZED (
      SELECT v."id" FROM "video" v
       WHERE (SELECT count(*) FROM fts) < ${TYPO_FALLBACK_BELOW}
         AND v."status" = 'READY' AND v."visibility" = 'PUBLIC' AND v."title" %> ${q}::text${f}
       ORDER BY v."published_at" DESC
       LIMIT ${SEARCH_CANDIDATES}
    ),
    s AS (
      SELECT ${VIDEO_COLUMNS}, ${expr} AS "sortKey"
        FROM (SELECT "id" FROM fts UNION SELECT "id" FROM typo) c
        JOIN "video" v ON v."id" = c."id",
        (SELECT ${q}::text AS q, ${tsq} AS tsq) p
    )
    SELECT * FROM s${keyset}
     ORDER BY s."sortKey" ${dir}, s."id"::uuid ${dir}
     LIMIT ${take}`;
}

/**
 * Typeahead: distinct READY PUBLIC titles starting with `prefix` (case-insensitive), most viewed
 * first. The candidates are the first SEARCH_CANDIDATES matches in the prefix index
 * (video_title_prefix_idx: `lower(title) text_pattern_ops`, partial on READY PUBLIC, title and
 * view count included), read from the index alone; only they are grouped and ranked. `%`, `_`
 * and `\` in the prefix are literal; equal views go by title in code point order (as the
 * in-memory TypeaheadIndex ranks). Each row: `title`, `folded` (its `lower()`) and `complete`
 * (fewer candidates than SEARCH_CANDIDATES: these are all the matches). A complete answer has
 * every distinct title, an incomplete one the first `take` (see typeahead.ts).
 */
export function suggestionsQuery(prefix: string, take: number): Prisma.Sql {
  const literal = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
  // lower() on both sides in SQL, so the prefix folds exactly as the indexed titles do. The
  // candidates are taken in the index's own order (text_pattern_ops sorts with ~<~, not the
  // collation's <): the scan stops after SEARCH_CANDIDATES entries instead of sorting the range.
  return Prisma.sql`
    SELECT r."title", lower(r."title") AS "folded", r."complete" FROM (
      SELECT g."title",
             row_number() OVER (ORDER BY g.views DESC, g."title" COLLATE "C") AS "rank",
             sum(g.n) OVER () < ${SEARCH_CANDIDATES} AS "complete"
        FROM (
          SELECT v."title", max(v."view_count") AS views, count(*) AS n
            FROM (
              SELECT "title", "view_count" FROM "video"
               WHERE "status" = 'READY' AND "visibility" = 'PUBLIC'
                 AND lower("title") LIKE lower(${literal}::text) || '%'
               ORDER BY lower("title") USING ~<~
               LIMIT ${SEARCH_CANDIDATES}
            ) v
           GROUP BY v."title"
        ) g
    ) r
    WHERE r."complete" OR r."rank" <= ${take}
    ORDER BY r."rank"`;
}

/** Candidates the related-videos query takes from each index before ranking them. */
export const RELATED_CANDIDATES = 200;

export interface RelatedQueryInput {
  /** The video the others relate to (left out of the answer). */
  id: string;
  title: string;
  tags: string[];
  take: number;
}

/**
 * "Related videos": READY PUBLIC videos sharing a tag (the tags GIN index) or a word of the
 * title (the full-text GIN index, any word: the title's lexemes OR'ed), the newest
 * RELATED_CANDIDATES of each; only those are ranked, by shared tags, then text rank, then views.
 */
export function relatedQuery({ id, title, tags, take }: RelatedQueryInput): Prisma.Sql {
  // The title's own lexemes joined with `|`, cast straight to a tsquery (already normalized).
  const tsq = Prisma.sql`(SELECT coalesce(string_agg(quote_literal(l), ' | '), '')::tsquery
       FROM unnest(tsvector_to_array(to_tsvector("reelkit_search_language"(), ${title}::text))) l)`;
  return Prisma.sql`
    WITH tagged AS MATERIALIZED (
      SELECT v."id" FROM "video" v
       WHERE v."status" = 'READY' AND v."visibility" = 'PUBLIC' AND v."id" <> ${id}::uuid
         AND v."tags" && ${tags}::text[]
       ORDER BY v."published_at" DESC
       LIMIT ${RELATED_CANDIDATES}
    ),
    worded AS MATERIALIZED (
      SELECT v."id" FROM "video" v
       WHERE v."status" = 'READY' AND v."visibility" = 'PUBLIC' AND v."id" <> ${id}::uuid
         AND v."search" @@ ${tsq}
       ORDER BY v."published_at" DESC
       LIMIT ${RELATED_CANDIDATES}
    )
    SELECT ${VIDEO_COLUMNS} FROM (SELECT "id" FROM tagged UNION SELECT "id" FROM worded) c
      JOIN "video" v ON v."id" = c."id",
      (SELECT ${tsq} AS tsq) p
     ORDER BY cardinality(ARRAY(SELECT unnest(v."tags") INTERSECT SELECT unnest(${tags}::text[]))) DESC,
              ts_rank(v."search", p.tsq) DESC, v."view_count" DESC, v."id"
     LIMIT ${take}`;
}
