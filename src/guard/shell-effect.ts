/**
 * A shell command's effect in plain words, for an approval card: the steps a chain runs and
 * how they are joined, where output is written, nested commands, and a gloss for commands
 * whose effect is not obvious from their name. It reads the text only (no shell is run), so it
 * names what it cannot see through (`eval`, `sh -c`, variables) instead of guessing: the card
 * always shows the command itself too.
 */

/** The effect names this many steps, each this long at most: the command itself follows whole. */
const MAX_STEPS = 20;
const MAX_STEP_CHARS = 300;

/** One simple command of a chain and how it joins the one before it. */
interface Step {
  join: ';' | '&&' | '||' | '|' | '&' | '\n' | null;
  text: string;
}

/** Splits at top-level `;`, `&&`, `||`, `|`, `&` and newlines, respecting quotes. */
export function splitChain(command: string): Step[] {
  const steps: Step[] = [];
  let cur = '';
  let join: Step['join'] = null;
  let quote: '"' | "'" | null = null;
  let depth = 0; // inside $( … )
  const push = (next: Step['join']) => {
    if (cur.trim()) steps.push({ join, text: cur.trim() });
    cur = '';
    join = next;
  };
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    const two = command.slice(i, i + 2);
    if (quote) {
      if (c === '\\' && quote === '"') {
        cur += two;
        i++;
        continue;
      }
      if (c === quote) quote = null;
      cur += c;
      continue;
    }
    if (c === '\\') {
      cur += two;
      i++;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (two === '$(') depth++;
    else if (c === ')' && depth > 0) depth--;
    if (depth === 0 && !quote) {
      if (two === '&&' || two === '||') {
        push(two);
        i++;
        continue;
      }
      if (c === ';' || c === '|' || c === '\n') {
        push(c as Step['join']);
        continue;
      }
      if (c === '&' && command[i - 1] !== '>' && command[i + 1] !== '>') {
        push('&');
        continue;
      }
    }
    cur += c;
  }
  push(null);
  return steps;
}

const JOIN_WORDS: Record<NonNullable<Step['join']>, string> = {
  ';': 'then',
  '\n': 'then',
  '&&': 'then, only if that succeeded,',
  '||': 'then, only if that failed,',
  '|': 'with that output as its input,',
  '&': 'at the same time (the step before runs in the background),',
};

/** Glosses for commands whose effect the name does not say; the first matching prefix wins. */
const GLOSSES: Array<[RegExp, string]> = [
  [/^git push\b.*(--force|-f\b)/, 'pushes commits to a remote repository, overwriting its history'],
  [/^git push\b/, 'pushes commits to a remote repository (others see them)'],
  [/^git reset --hard\b/, 'throws away uncommitted changes'],
  [/^git clean\b/, 'deletes untracked files'],
  [/^rm\b.*\s-\w*r/, 'deletes files and folders recursively'],
  [/^rm\b/, 'deletes files'],
  [
    /^(curl|wget)\b.*\s(-d|--data\S*|-F|--form|-T|--upload-file|-X\s*(POST|PUT|DELETE|PATCH))\b/,
    'sends data to a web address',
  ],
  [/^(curl|wget)\b/, 'fetches from the network'],
  [/^(ssh|scp|rsync|sftp)\b/, 'connects to another machine'],
  [/^(npm|pnpm|yarn) publish\b/, 'publishes a package to a registry'],
  [
    /^(npm|pnpm|yarn|pip3?|apt(-get)?) (install|add|i)\b/,
    'installs packages (runs their install scripts)',
  ],
  [/^(sudo|doas)\b/, 'runs a command as another user'],
  [/^(chmod|chown)\b/, 'changes file permissions or ownership'],
  [/^dd\b/, 'copies raw data (can overwrite whole files or devices)'],
  [/^(mv)\b/, 'moves or renames files (replacing any at the target)'],
  [/^(kill|pkill|killall)\b/, 'stops processes'],
  [/^(eval|exec|source|\.)\s/, 'runs code held in text: its effect cannot be read here'],
  [/^(ba|z|da)?sh\s+-c\b/, 'runs a shell script given as text: read it below'],
  [/^(python3?|node|perl|ruby)\s+(-c|-e)\b/, 'runs a script given as text: read it below'],
  [/^crontab\b/, 'changes scheduled jobs'],
];

/** Where a step writes its output, from `>`, `>>`, `2>` and `tee`. */
function writes(step: string): string[] {
  const out: string[] = [];
  for (const m of step.matchAll(/(\d?)(>>?)\s*("[^"]*"|'[^']*'|[^\s;&|]+)/g)) {
    const target = m[3]!.replace(/^["']|["']$/g, '');
    if (target.startsWith('&') || target === '/dev/null') continue;
    out.push(
      `${m[2] === '>>' ? 'appends' : 'writes'} ${m[1] === '2' ? 'its errors' : 'its output'} to ${target}${m[2] === '>' ? ' (replacing it)' : ''}`,
    );
  }
  const tee = /^tee\s+(-a\s+)?(.+)$/.exec(step);
  if (tee) out.push(`${tee[1] ? 'appends' : 'writes'} its input to ${tee[2]!.trim()}`);
  return out;
}

/**
 * The effect lines of `command`: one per step, with how it joins the previous one, a gloss
 * where one is known, the files it writes, and a warning for nested commands and variables.
 */
export function shellEffect(command: string): string[] {
  const steps = splitChain(command);
  if (!steps.length) return ['runs an empty command'];
  const lines = steps.slice(0, MAX_STEPS).map((s, i) => {
    const words = s.text.replace(/^(\w+=\S*\s+)+/, ''); // leading VAR=value assignments
    const gloss = GLOSSES.find(([re]) => re.test(words))?.[1];
    const extra = [
      ...(gloss ? [gloss] : []),
      ...writes(s.text),
      ...(/\$\(|`/.test(s.text) ? ['first runs the nested command inside $( ) or ` `'] : []),
      ...(words !== s.text ? ['with environment variables set for it'] : []),
    ];
    const lead = i === 0 || !s.join ? '' : `${JOIN_WORDS[s.join]} `;
    const shown =
      s.text.length > MAX_STEP_CHARS
        ? `${s.text.slice(0, MAX_STEP_CHARS)}… (${s.text.length} characters)`
        : s.text;
    return `${steps.length > 1 ? `${i + 1}. ` : ''}${lead}runs \`${shown}\`${extra.length ? ` — ${extra.join('; ')}` : ''}`;
  });
  if (steps.length > MAX_STEPS)
    lines.push(`… and ${steps.length - MAX_STEPS} more steps (the whole command is below)`);
  if (/[^&]&\s*$/.test(command)) lines.push('the last step keeps running in the background');
  return lines;
}
