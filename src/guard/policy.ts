/**
 * The policy: which rule decides an action. Pure and fast (no I/O): the guard calls it for
 * every privileged action, so an allowed one costs microseconds.
 *
 * Rules come in three layers, first match wins by layer: the owner's (written by an `always`
 * answer or by hand, stored), the config's (`guard.rules`), the defaults per group kind.
 * Within a layer, deny beats ask beats allow. A tainted turn turns an allow into an ask.
 * Budgets and unknown senders always ask: no rule allows them.
 */
import { posix } from 'node:path';
import { Allowlist } from '../egress/allowlist.js';
import type { RuleEffect } from '../store/guard-rules.js';
import type { ActionKind, GuardAction } from './actions.js';

/** One rule: actions of `kind` whose subject matches `pattern` get `effect`. */
export interface Rule {
  kind: ActionKind;
  pattern: string;
  effect: RuleEffect;
  source: 'owner' | 'config' | 'default';
  /** The stored rule's id (owner rules). */
  id?: number;
}

export interface Verdict {
  effect: RuleEffect;
  /** The rule that decided (none: the kind always asks, or nothing matched). */
  rule?: Rule;
  /** Set when the turn's taint turned an allow into an ask. */
  tainted?: boolean;
}

/** Claude Code's tools that write a file (their path argument is what a rule's `(…)` names). */
const FILE_WRITING_TOOLS = ['Write', 'Edit', 'MultiEdit', 'NotebookEdit'] as const;

/**
 * The defaults. Main is the owner's admin chat: it may message any chat and register groups;
 * other groups ask before messaging one of their other chats or delegating. Everyone asks for a
 * new egress host, a schedule firing more than the daily limit, `git push`, and a web fetch
 * (`always` allows that domain from then on). Main asks before writing to the shared
 * /workspace/global (every group reads it); other groups may not (it is read-only for them).
 */
export function defaultRules(isMain: boolean): Rule[] {
  const d = (kind: ActionKind, pattern: string, effect: RuleEffect): Rule => ({
    kind,
    pattern,
    effect,
    source: 'default',
  });
  return [
    d('egress', '*:*', 'ask'),
    d('schedule_task', '*', 'ask'),
    d('tool', 'Bash(git push:*)', 'ask'),
    d('tool', 'WebFetch', 'ask'),
    ...FILE_WRITING_TOOLS.map((t) =>
      d('tool', `${t}(/workspace/global/**)`, isMain ? 'ask' : 'deny'),
    ),
    d('command', 'git push:*', 'ask'),
    d('tool', '*', 'allow'),
    d('command', '*', 'allow'),
    d('send_message', '*', isMain ? 'allow' : 'ask'),
    d('register_group', '*', isMain ? 'allow' : 'deny'),
    d('delegate', '*', isMain ? 'allow' : 'ask'),
  ];
}

const ALWAYS_ASK: ReadonlySet<ActionKind> = new Set(['budget', 'sender']);
const RANK: Record<RuleEffect, number> = { deny: 3, ask: 2, allow: 1 };

/** Decides `action` by the first layer with a matching rule; `taint` non-empty: allow → ask. */
export function decide(
  action: GuardAction,
  layers: ReadonlyArray<readonly Rule[]>,
  tainted: boolean,
): Verdict {
  if (ALWAYS_ASK.has(action.kind)) return { effect: 'ask' };
  for (const layer of layers) {
    let best: Rule | undefined;
    for (const r of layer) {
      if (r.kind !== action.kind || !ruleMatches(r, action)) continue;
      if (!best || RANK[r.effect] > RANK[best.effect]) best = r;
      if (best.effect === 'deny') break;
    }
    if (best) {
      if (best.effect === 'allow' && tainted) return { effect: 'ask', rule: best, tainted: true };
      return { effect: best.effect, rule: best };
    }
  }
  return { effect: 'ask' };
}

/** Shell operators that chain or redirect: a prefix rule never allows past one of them. */
const SHELL_CHAIN = /[;&|`<>\n]|\$\(/;

const globCache = new Map<string, RegExp>();
/** `*` any run of characters but `/`, `**` anything; the whole string must match. */
export function globToRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (!re) {
    const body = glob
      .split('**')
      .map((part) =>
        part
          .split('*')
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]*'),
      )
      .join('.*');
    re = new RegExp(`^${body}$`, 's');
    if (globCache.size > 1000) globCache.clear();
    globCache.set(glob, re);
  }
  return re;
}

/**
 * A prefix pattern `git push:*` matches `git push` and `git push origin main`, never a chained
 * command (`git push; curl …`); other patterns are globs over the whole subject.
 */
function commandMatches(spec: string, command: string, effect: RuleEffect): boolean {
  const cmd = command.trim();
  if (spec === '*') return true;
  // The exact command (an `always` answer writes it): the owner has read all of it, chain and all.
  if (spec === cmd) return true;
  if (spec.endsWith(':*')) {
    const prefix = spec.slice(0, -2);
    const hit = cmd === prefix || cmd.startsWith(`${prefix} `);
    // An allow by prefix must not let a chained command through; an ask or deny by prefix
    // also catches the prefix anywhere in a chain.
    if (effect === 'allow') return hit && !SHELL_CHAIN.test(cmd);
    return (
      hit ||
      cmd.split(/[;&|\n]+/).some((part) => {
        const p = part.trim();
        return p === prefix || p.startsWith(`${prefix} `);
      })
    );
  }
  return globToRegExp(spec).test(cmd) && (effect !== 'allow' || !SHELL_CHAIN.test(cmd));
}

const allowlists = new Map<string, Allowlist | null>();
function egressMatches(pattern: string, host: string, port: number): boolean {
  let list = allowlists.get(pattern);
  if (list === undefined) {
    try {
      list = new Allowlist([pattern]);
    } catch {
      list = null; // a bad pattern matches nothing
    }
    allowlists.set(pattern, list);
  }
  return list !== null && list.matches({ host, port }).length > 0;
}

/** The sandbox's working directory: a relative path in a tool call is taken from there. */
const SANDBOX_WORKDIR = '/workspace/group';

/**
 * The argument a tool pattern's `(spec)` is matched against. A path is normalised first, so
 * `/workspace/group/../global/x` is matched as `/workspace/global/x`.
 */
export function toolSubject(input: Record<string, unknown>): string {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const path = str(input.file_path) ?? str(input.notebook_path) ?? str(input.path);
  return (
    str(input.command) ??
    (path !== undefined ? posix.resolve(SANDBOX_WORKDIR, path) : undefined) ??
    str(input.url) ??
    str(input.query) ??
    JSON.stringify(input)
  );
}

/** The tool-name part of a tool pattern: `Bash` of `Bash(git push:*)`. */
export function toolRuleName(pattern: string): string {
  return /^([^()]+?)(?:\((.*)\))?$/s.exec(pattern.trim())?.[1] ?? pattern.trim();
}

/** Whether `rule` matches `action` (same kind assumed). */
export function ruleMatches(rule: Rule, action: GuardAction): boolean {
  switch (action.kind) {
    case 'egress':
      return egressMatches(rule.pattern, action.host, action.port);
    case 'tool': {
      const m = /^([^()]+?)(?:\((.*)\))?$/s.exec(rule.pattern.trim());
      if (!m || !globToRegExp(m[1]!).test(action.tool)) return false;
      const spec = m[2];
      if (spec === undefined || spec === '*') return true;
      if (spec.startsWith('domain:')) {
        const url = typeof action.input.url === 'string' ? action.input.url : '';
        let host: string;
        try {
          host = new URL(url).hostname.toLowerCase();
        } catch {
          return false;
        }
        const d = spec.slice('domain:'.length).toLowerCase();
        return d.startsWith('*.') ? host.endsWith(d.slice(1)) : host === d;
      }
      if (action.tool === 'Bash')
        return commandMatches(spec, String(action.input.command ?? ''), rule.effect);
      return globToRegExp(spec).test(toolSubject(action.input));
    }
    case 'command':
      return commandMatches(rule.pattern, action.command, rule.effect);
    case 'send_message':
      return globToRegExp(rule.pattern).test(action.chat);
    case 'schedule_task':
      return globToRegExp(rule.pattern).test(action.schedule);
    case 'register_group':
      return globToRegExp(rule.pattern).test(action.name);
    case 'delegate':
      return globToRegExp(rule.pattern).test(action.group);
    case 'budget':
    case 'sender':
      return false;
  }
}
