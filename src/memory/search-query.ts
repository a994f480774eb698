import { HistorySearchError } from './errors.js';

/** Longest query accepted, in characters. */
export const MAX_QUERY_CHARS = 500;
/** Most terms (words and phrases) in one query. */
export const MAX_QUERY_TERMS = 32;

/** Characters a `prefix*` needs; shorter ones are searched as whole words. */
export const MIN_PREFIX_CHARS = 3;

/** A query as understood: the FTS5 expression over `text`, and the terms it looks for. */
export interface ParsedQuery {
  /** A complete FTS5 expression; every user term is a quoted string inside it. */
  expression: string;
  /** The positive terms as the user wrote them (for display). */
  terms: string[];
}

interface Term {
  /** The FTS5 string: quoted, quotes doubled, `*` after it for a prefix. */
  fts: string;
  shown: string;
}

/** Letters or digits: a term without any matches nothing the tokenizer keeps. */
const WORDY = /[\p{L}\p{N}]/u;

const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * Turns what a person (or an agent) types into a safe FTS5 expression. The language is small
 * and forgiving: words (all must match, in any order, accents and case ignored), "exact
 * phrases", `word*` for a prefix (3 characters or more), `OR` between two terms for either, `-word` or `-"phrase"` to
 * leave out. Every term becomes a quoted FTS5 string, so no input can reach FTS5's own syntax
 * (column filters, NEAR, parentheses, bare operators) or widen a search beyond the scope the
 * caller adds around it. Throws HistorySearchError('invalid_query') when nothing is left to
 * search for, or the query is too long.
 */
export function parseQuery(input: string): ParsedQuery {
  if (input.length > MAX_QUERY_CHARS)
    throw new HistorySearchError(
      'invalid_query',
      `the query is ${input.length} characters long; at most ${MAX_QUERY_CHARS}`,
    );
  const clauses: Term[][] = [];
  const excluded: Term[] = [];
  let joinNext = false;
  let count = 0;
  for (const [, neg, phrase, word] of input.matchAll(/(-?)(?:"([^"]*)"?|(\S+))/g)) {
    if (phrase === undefined && word === 'OR' && !neg) {
      joinNext = clauses.length > 0;
      continue;
    }
    const term = toTerm(phrase, word);
    if (!term) continue;
    if (++count > MAX_QUERY_TERMS)
      throw new HistorySearchError(
        'invalid_query',
        `the query has more than ${MAX_QUERY_TERMS} words and phrases`,
      );
    if (neg) excluded.push(term);
    else if (joinNext) clauses[clauses.length - 1]!.push(term);
    else clauses.push([term]);
    joinNext = false;
  }
  if (!clauses.length)
    throw new HistorySearchError(
      'invalid_query',
      input.trim()
        ? `nothing to search for in "${input.trim()}": give at least one word (a leading - only leaves words out)`
        : 'the query is empty: give at least one word',
    );
  const positive = clauses
    .map((c) => (c.length > 1 ? `(${c.map((t) => t.fts).join(' OR ')})` : c[0]!.fts))
    .join(' AND ');
  const expression = excluded.length
    ? `(${positive}) NOT (${excluded.map((t) => t.fts).join(' OR ')})`
    : positive;
  return { expression, terms: clauses.flat().map((t) => t.shown) };
}

function toTerm(phrase: string | undefined, word: string | undefined): Term | undefined {
  if (phrase !== undefined) {
    const text = phrase.trim();
    return WORDY.test(text) ? { fts: quote(text), shown: `"${text}"` } : undefined;
  }
  const text = word!.replace(/\*+$/, '');
  if (!WORDY.test(text)) return undefined;
  // A short prefix matches a large part of the vocabulary, and costs as much: whole word then.
  const prefix = text.length < word!.length && [...text].length >= MIN_PREFIX_CHARS;
  return { fts: prefix ? `${quote(text)} *` : quote(text), shown: word! };
}
