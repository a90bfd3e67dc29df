import type { Logger } from "@reelkit/core";
import { MIGRATION_LOCK_KEY } from "./migrate.js";
import type { SqlRunner } from "./sql-runner.js";

/**
 * Session settings catalog search relies on: `title %> q` (the trigram GIN index's
 * word-similarity operator) matches at this threshold, low enough for one wrong letter in a
 * short word ("kiten" finds "kitten").
 */
export const TRGM_SESSION_SETTINGS = { "pg_trgm.word_similarity_threshold": "0.4" } as const;

/**
 * Makes the stored search vectors use text-search configuration `language`: when it differs
 * from the database's, replaces `reelkit_search_language()` and rewrites every vector (a full
 * table rewrite, once per change). Unknown configurations fail the start.
 */
export async function applySearchLanguage(runner: SqlRunner, language: string, logger?: Logger): Promise<void> {
  const [current] = await runner.query<{ lang: string }>(`SELECT "reelkit_search_language"()::text AS lang`);
  if (current?.lang === language) return;
  const known = await runner.query(`SELECT 1 FROM pg_ts_config WHERE cfgname = $1`, [language]);
  if (known.length === 0) {
    throw new Error(`REELKIT_SEARCH_LANGUAGE: the database has no text search configuration "${language}"`);
  }
  await runner.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
  try {
    const [again] = await runner.query<{ lang: string }>(`SELECT "reelkit_search_language"()::text AS lang`);
    if (again?.lang === language) return;
    logger?.info({ from: again?.lang, to: language }, "rewriting search vectors for a new search language");
    await runner.exec("BEGIN");
    try {
      // The name was checked against pg_ts_config above, so quoting it as a literal is safe.
      await runner.exec(
        `CREATE OR REPLACE FUNCTION "reelkit_search_language"() RETURNS regconfig
           LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT '${language}'::regconfig $$`,
      );
      // A stored generated column is recomputed when a column it reads is assigned.
      await runner.exec(`UPDATE "video" SET "title" = "title"`);
      await runner.exec("COMMIT");
    } catch (err) {
      await runner.exec("ROLLBACK");
      throw err;
    }
  } finally {
    await runner.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
  }
}
