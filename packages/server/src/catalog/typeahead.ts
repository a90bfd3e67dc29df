/**
 * Typeahead answers and how a longer prefix is answered from a shorter one without a query.
 *
 * The database ranks the first SEARCH_CANDIDATES rows of the prefix index's range. When the
 * range held fewer rows than that, the answer saw every match of its prefix: it is *complete*,
 * and keeps every distinct title (with the database's own `lower()` of each) in rank order. Each
 * longer prefix then matches a subset of those titles, in the same order, and is answered by
 * filtering them. People type one letter at a time: once a prefix narrows the catalog to fewer
 * than SEARCH_CANDIDATES videos, every further keystroke is answered from memory.
 */

export interface TypeaheadAnswer {
  /** Distinct READY PUBLIC titles starting with the prefix (case-folded), most viewed first. */
  readonly titles: readonly string[];
  /**
   * The database's `lower()` of each title, present only when `titles` holds every match of the
   * prefix (a complete answer, which longer prefixes can be narrowed from).
   */
  readonly folded?: readonly string[];
}

/**
 * Whether `prefix` folds to lower case in JavaScript exactly as the database's `lower()` folds
 * it: ASCII, and characters without case (digits, punctuation, most scripts of Asia). Other
 * characters (é, Ж, İ …) fold by the database's locale, so their prefixes always go to it.
 */
export function foldsLikeTheDatabase(prefix: string): boolean {
  for (const c of prefix) {
    if (c.charCodeAt(0) < 0x80) continue;
    if (c.toLowerCase() !== c || c.toUpperCase() !== c) return false;
  }
  return true;
}

/**
 * The answer for `prefix` from the complete answer of one of its own prefixes: the titles whose
 * folded form starts with the folded `prefix`, in the same order (complete as well). Only for a
 * prefix that folds like the database (see foldsLikeTheDatabase).
 */
export function narrow(from: TypeaheadAnswer & { folded: readonly string[] }, prefix: string): TypeaheadAnswer {
  const want = prefix.toLowerCase();
  const titles: string[] = [];
  const folded: string[] = [];
  for (let i = 0; i < from.titles.length; i++) {
    const f = from.folded[i] as string;
    if (f.startsWith(want)) {
      titles.push(from.titles[i] as string);
      folded.push(f);
    }
  }
  return { titles, folded };
}

/** Memory an answer holds, in titles (a complete one also keeps their folded forms). */
export function answerSize(answer: TypeaheadAnswer): number {
  return 1 + answer.titles.length * (answer.folded ? 2 : 1);
}
