import { Fragment } from "react";

/** `http(s)://…` up to the next space or angle bracket. */
const URL_LIKE = /\bhttps?:\/\/[^\s<>"]+/gi;
/** Punctuation that ends a sentence rather than the address. */
const TRAILING = /[.,;:!?)\]}'"]+$/;

export type TextPart = { text: string } | { href: string; text: string };

/**
 * Splits user text into plain runs and web links. Only `http:` and `https:` addresses that
 * parse as URLs become links; everything else (`javascript:`, `data:`, markup) stays text,
 * which React escapes.
 */
export function linkParts(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let at = 0;
  for (const match of text.matchAll(URL_LIKE)) {
    const start = match.index ?? 0;
    const raw = match[0].replace(TRAILING, "");
    let href: string | null = null;
    try {
      const url = new URL(raw);
      if (url.protocol === "http:" || url.protocol === "https:") href = url.href;
    } catch {
      href = null;
    }
    if (!href) continue;
    if (start > at) parts.push({ text: text.slice(at, start) });
    parts.push({ href, text: raw });
    at = start + raw.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

/**
 * Text written by users (descriptions) with its web addresses as links that leave the site:
 * a new tab, no referrer, no opener, and `nofollow ugc` for search engines.
 */
export function LinkedText({ text }: { text: string }) {
  // Each part keyed by where it starts in the text.
  let offset = 0;
  return (
    <>
      {linkParts(text).map((part) => {
        const at = offset;
        offset += part.text.length;
        return "href" in part ? (
          <a key={at} href={part.href} target="_blank" rel="noopener noreferrer nofollow ugc">
            {part.text}
          </a>
        ) : (
          <Fragment key={at}>{part.text}</Fragment>
        );
      })}
    </>
  );
}
