import { describe, expect, it } from 'vitest';
import { openDb } from '../store/db.js';
import { HistorySearchError } from './errors.js';
import { MAX_QUERY_TERMS, parseQuery } from './search-query.js';

describe('parseQuery', () => {
  it('turns words into quoted terms that must all match', () => {
    expect(parseQuery('dentist friday')).toEqual({
      expression: '"dentist" AND "friday"',
      terms: ['dentist', 'friday'],
    });
  });

  it('keeps phrases, prefixes, OR between two terms and leading - to leave out', () => {
    expect(parseQuery('"flight number" deploy* -staging').expression).toBe(
      '("flight number" AND "deploy" *) NOT ("staging")',
    );
    expect(parseQuery('alice OR bob lunch').expression).toBe('("alice" OR "bob") AND "lunch"');
    expect(parseQuery('-"old plan" new').expression).toBe('("new") NOT ("old plan")');
    // A prefix of fewer than 3 characters is a whole word (it would match half the vocabulary).
    expect(parseQuery('de* dep*').expression).toBe('"de" AND "dep" *');
  });

  it('neutralises FTS5 syntax: every user term is a quoted string', () => {
    const hostile = [
      'scope : c74673a31',
      'x) OR (y',
      'NEAR(a b, 3)',
      '"unterminated',
      'a AND OR NOT b',
      '{text scope}: x',
      '^start',
      'quote"inside',
    ];
    for (const q of hostile) {
      const { expression } = parseQuery(q);
      // Outside quoted strings only our own operators and parentheses remain.
      const outside = expression.replace(/"(?:[^"]|"")*"/g, 'T');
      expect(outside, q).toMatch(/^[T ()*]*(?:(?:AND|OR|NOT)[T ()*]*)*$/);
    }
  });

  it('gives expressions SQLite accepts, for hostile input too', () => {
    const db = openDb(':memory:');
    const inputs = ['x) OR (y', '"a', 'NEAR(a b)', 'a*b*', 'ö ü ß', '-a b', 'a OR', 'OR a', '**x'];
    for (const q of inputs) {
      const { expression } = parseQuery(q);
      expect(
        () =>
          db
            .prepare('SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?')
            .all(`text : (${expression})`),
        q,
      ).not.toThrow();
    }
    db.close();
  });

  it('refuses a query with nothing to search for, saying what to give', () => {
    for (const q of ['', '   ', '-only', '*** ---', 'OR', '"" ()']) {
      expect(() => parseQuery(q), q).toThrow(HistorySearchError);
    }
    expect(() => parseQuery('-alone')).toThrow(/at least one word/);
  });

  it('refuses queries too long or with too many terms', () => {
    expect(() => parseQuery('a'.repeat(501))).toThrow(/at most 500/);
    const many = Array.from({ length: MAX_QUERY_TERMS + 1 }, (_, i) => `w${i}`).join(' ');
    expect(() => parseQuery(many)).toThrow(/more than 32/);
  });
});
