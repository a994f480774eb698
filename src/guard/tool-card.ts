/**
 * The card lines of a Claude tool call: what it does in plain words (for Bash, each step of the
 * command), then every argument it was given, none left out. A value longer than the card's
 * limit is cut and says so, with its full length; `clawpod approvals show N` prints it whole.
 */
import type { ToolAction } from './actions.js';
import { toolSubject } from './policy.js';
import { shellEffect } from './shell-effect.js';

/** Longest argument value a chat card shows before cutting it (chat messages have limits). */
export const CARD_VALUE_LIMIT = 1500;

export interface ToolLinesOptions {
  /** Cut values longer than this (with a note); absent: every value whole. */
  limit?: number;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const count = (n: number) => n.toLocaleString('en-US');

/** What the call does, as plainly as the arguments allow (the arguments follow in full). */
function effectOf(a: ToolAction): string[] {
  const i = a.input;
  switch (a.tool) {
    case 'Bash': {
      const cmd = str(i.command) ?? '';
      return [
        ...shellEffect(cmd),
        ...(i.run_in_background === true ? ['keeps running in the background after the call'] : []),
      ];
    }
    case 'Write':
      return [
        `writes ${count((str(i.content) ?? '').length)} characters to ${toolSubject(i)}, replacing the file if it exists`,
      ];
    case 'Edit':
      return [
        `changes ${toolSubject(i)}: replaces ${i.replace_all === true ? 'every occurrence' : 'one occurrence'} of the old text with the new text below`,
      ];
    case 'MultiEdit':
      return [
        `changes ${toolSubject(i)}: ${Array.isArray(i.edits) ? i.edits.length : '?'} replacements, listed below`,
      ];
    case 'NotebookEdit':
      return [`changes the notebook ${toolSubject(i)} (${str(i.edit_mode) ?? 'replace'} a cell)`];
    case 'WebFetch': {
      let host = '?';
      try {
        host = new URL(str(i.url) ?? '').hostname;
      } catch {
        // shown as given below
      }
      return [
        `fetches ${str(i.url) ?? '(no url)'} (domain ${host}); the page goes to the model, and the request itself can carry data out in its address`,
      ];
    }
    case 'WebSearch':
      return [`searches the web for: ${str(i.query) ?? '(no query)'}`];
    default:
      return a.tool.startsWith('mcp__')
        ? [
            `calls the tool "${a.tool.split('__').slice(2).join('__')}" of the MCP server "${a.tool.split('__')[1] ?? '?'}"`,
          ]
        : [`uses the tool ${a.tool}`];
  }
}

/** One argument value: whole, or cut at `limit` with its full length. */
function valueLines(key: string, v: unknown, limit: number | undefined): string[] {
  const text = (typeof v === 'string' ? v : JSON.stringify(v)) ?? 'undefined';
  const cut = limit !== undefined && text.length > limit;
  const shown = cut ? text.slice(0, limit) : text;
  const label =
    key === 'description' ? `${key} (the agent's own words, not checked by clawpod)` : key;
  const [first, ...rest] = shown.split('\n');
  return [
    `  ${label}: ${first}`,
    ...rest.map((l) => `    ${l}`),
    ...(cut
      ? [
          `    … [cut: ${count(text.length)} characters in all, ${count(limit)} shown; clawpod approvals show prints it whole]`,
        ]
      : []),
  ];
}

/** The tool's card lines: the tool, its effect, and every argument. */
export function toolLines(a: ToolAction, opts: ToolLinesOptions = {}): string[] {
  const keys = Object.keys(a.input);
  return [
    `Tool: ${a.tool}`,
    'Effect:',
    ...effectOf(a).map((l) => `  ${l}`),
    `Arguments (${keys.length ? `all ${keys.length}` : 'none'}):`,
    ...keys.flatMap((k) => valueLines(k, a.input[k], opts.limit)),
  ];
}
