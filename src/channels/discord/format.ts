/**
 * Markdown as models write it → Discord's Markdown dialect, and a plain-text fallback.
 *
 * Discord renders most of it natively: bold, italic, strike, inline code, fenced blocks with a
 * language, quotes, lists, headings `#` to `###`, masked links `[text](https://…)`. What differs,
 * and is converted here:
 * - `__x__` is underline on Discord but strong in Markdown → `**x**`;
 * - headings `####` and deeper are not rendered → a bold line;
 * - tables are not rendered → an aligned table in a code block;
 * - rules (`---`) and task boxes (`- [ ]`) are not rendered → a line of `─`, ☐ / ☑;
 * - `* item` / `+ item` bullets → `- item`; nested quotes (`>>`) → one level (Discord's `>>>`
 *   would quote the whole rest of the message);
 * - `||` opens a spoiler on Discord → escaped; `-# ` at a line start (Discord's subtext) → escaped;
 * - links whose target is not http(s) (Discord refuses to mask them) → `text (target)`;
 *   images → `alt: url` (Discord shows a preview of the bare URL).
 * Code (spans and blocks) is never changed, except that a `~~~` fence becomes ```.
 */

/** A fenced code block or a run of other lines. */
type Block =
  | { kind: 'code'; lang: string; body: string[] }
  | { kind: 'table'; rows: string[][] }
  | { kind: 'text'; lines: string[] };

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})[ \t]*([^`\s]*)[^`]*$/;
const TABLE_SEPARATOR = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;
const RULE = /^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$/;
const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const QUOTE = /^ {0,3}>(?:[ \t]*>)*[ \t]?/;
const BULLET = /^(\s*)[*+-][ \t]+(?:\[([ xX])\][ \t]+)?/;
const RULE_TEXT = '──────────';

/** Splits text into code blocks, tables and other lines. An unclosed fence runs to the end. */
function blocks(md: string): Block[] {
  const lines = md.replace(/\r\n?/g, '\n').split('\n');
  const out: Block[] = [];
  let text: string[] = [];
  const flush = () => {
    if (text.length) out.push({ kind: 'text', lines: text });
    text = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE_OPEN.exec(line);
    if (fence) {
      flush();
      const marker = fence[1]!;
      const close = new RegExp(
        `^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}[ \\t]*$`,
      );
      const body: string[] = [];
      for (i++; i < lines.length && !close.test(lines[i]!); i++) body.push(lines[i]!);
      const lang = /^[A-Za-z0-9_+.#-]+$/.test(fence[2]!) ? fence[2]! : '';
      out.push({ kind: 'code', lang, body });
      continue;
    }
    if (line.includes('|') && TABLE_SEPARATOR.test(lines[i + 1] ?? '')) {
      flush();
      const rows = [cells(line)];
      for (i += 2; i < lines.length && lines[i]!.includes('|') && lines[i]!.trim(); i++)
        rows.push(cells(lines[i]!));
      i--;
      out.push({ kind: 'table', rows });
      continue;
    }
    text.push(line);
  }
  flush();
  return out;
}

/** The cells of a table row (`| a | b |` or `a | b`), inline markup removed. */
function cells(row: string): string[] {
  const inner = row
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '');
  return inner.split(/(?<!\\)\|/).map((c) => plainInline(c.trim().replace(/\\\|/g, '|')));
}

function renderTable(rows: string[][]): string[] {
  const cols = Math.max(...rows.map((r) => r.length));
  const width = Array.from({ length: cols }, (_, c) =>
    Math.max(...rows.map((r) => [...(r[c] ?? '')].length)),
  );
  const line = (r: string[]) =>
    width
      .map((w, c) => (r[c] ?? '') + ' '.repeat(w - [...(r[c] ?? '')].length))
      .join(' | ')
      .trimEnd();
  const [head, ...body] = rows;
  return [line(head!), width.map((w) => '-'.repeat(w)).join('-+-'), ...body.map(line)];
}

/** Applies `fn` to the parts of a line outside inline code spans; spans pass through. */
function outsideCode(line: string, fn: (text: string) => string, keepTicks = true): string {
  let out = '';
  let rest = line;
  for (;;) {
    const open = /`+/.exec(rest);
    if (!open) return out + fn(rest);
    const ticks = open[0];
    const after = rest.slice(open.index + ticks.length);
    const close = new RegExp(`(?<!\`)${ticks}(?!\`)`).exec(after);
    if (!close) return out + fn(rest);
    const code = after.slice(0, close.index);
    out += fn(rest.slice(0, open.index)) + (keepTicks ? ticks + code + ticks : code);
    rest = after.slice(close.index + ticks.length);
  }
}

/** Links, images, autolinks and bare URLs: their targets are never touched by emphasis rules. */
const TOKEN =
  /!\[([^\]]*)\]\(<?([^)\s>]+)>?(?:\s+"[^"]*")?\)|\[([^\]]+)\]\(<?([^)\s>]+)>?(?:\s+"[^"]*")?\)|<(https?:\/\/[^>\s]+)>|https?:\/\/[^\s<]+/gi;
const isWeb = (url: string) => /^https?:\/\//i.test(url);

/** Runs `rest` over the text between tokens and `token` over each token. */
function tokens(text: string, rest: (t: string) => string, token: (m: RegExpExecArray) => string) {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    out += rest(text.slice(last, m.index)) + token(m);
    last = m.index + m[0].length;
  }
  return out + rest(text.slice(last));
}

function discordEmphasis(t: string): string {
  return t
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/(^|[^\w\\])__(?!\s)(.+?)(?<!\s)__(?!\w)/g, '$1**$2**')
    .replace(/\|\|/g, '\\|\\|');
}

function discordInline(text: string): string {
  return tokens(text, discordEmphasis, (m) => {
    const [whole, alt, src, label, href] = m;
    if (src !== undefined) return alt!.trim() ? `${discordEmphasis(alt!.trim())}: ${src}` : src;
    if (href === undefined) return whole;
    if (!isWeb(href)) return `${discordEmphasis(label!)} (${href})`;
    return label!.trim() === href ? href : `[${discordEmphasis(label!)}](${href})`;
  });
}

function stripEmphasis(t: string): string {
  return t
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/(\*\*|__|~~|\|\|)(?!\s)(.+?)(?<!\s)\1/g, '$2')
    .replace(/(^|[^\w*\\])\*(?![\s*])(.+?)(?<![\s*\\])\*(?![\w*])/g, '$1$2')
    .replace(/(^|[^\w\\])_(?![\s_])(.+?)(?<![\s_\\])_(?!\w)/g, '$1$2');
}

function plainInline(text: string): string {
  return outsideCode(
    text,
    (t) =>
      tokens(t, stripEmphasis, (m) => {
        const [whole, alt, src, label, href, auto] = m;
        if (src !== undefined) return alt!.trim() ? `${stripEmphasis(alt!.trim())}: ${src}` : src;
        if (href !== undefined)
          return label!.trim() === href ? href : `${stripEmphasis(label!)} (${href})`;
        return auto ?? whole;
      }),
    false,
  );
}

/** One text line in Discord's dialect (outside code blocks and tables). */
function discordLine(line: string): string {
  if (RULE.test(line)) return RULE_TEXT;
  const heading = HEADING.exec(line);
  if (heading) {
    const body = outsideCode(heading[2]!, discordInline);
    if (!body) return '';
    return heading[1]!.length <= 3 ? `${heading[1]} ${body}` : `**${body.replace(/\*\*/g, '')}**`;
  }
  const quote = QUOTE.exec(line);
  if (quote) return `> ${discordLine(line.slice(quote[0].length))}`;
  const bullet = BULLET.exec(line);
  if (bullet) {
    const box = bullet[2] === undefined ? '' : bullet[2] === ' ' ? '☐ ' : '☑ ';
    return `${bullet[1]}- ${box}${outsideCode(line.slice(bullet[0].length), discordInline)}`;
  }
  return outsideCode(line, discordInline).replace(/^(\s*)-#(?=\s)/, '$1\\-#');
}

function plainLine(line: string): string {
  if (RULE.test(line)) return RULE_TEXT;
  const heading = HEADING.exec(line);
  if (heading) return plainInline(heading[2]!);
  const quote = QUOTE.exec(line);
  if (quote) return `> ${plainLine(line.slice(quote[0].length))}`;
  const bullet = BULLET.exec(line);
  if (bullet) {
    const box = bullet[2] === undefined ? '' : bullet[2] === ' ' ? '☐ ' : '☑ ';
    return `${bullet[1]}- ${box}${plainInline(line.slice(bullet[0].length))}`;
  }
  return plainInline(line);
}

/** Converts Markdown to Discord's dialect (see the module comment for what changes). */
export function toDiscordMarkdown(md: string): string {
  const out: string[] = [];
  for (const b of blocks(md)) {
    if (b.kind === 'code') {
      // A fence inside the body would end Discord's block early; a zero-width space breaks it.
      out.push('```' + b.lang, ...b.body.map((l) => l.replace(/```/g, '`\u200b``')), '```');
    } else if (b.kind === 'table') {
      out.push('```', ...renderTable(b.rows), '```');
    } else {
      out.push(...b.lines.map(discordLine));
    }
  }
  return out.join('\n');
}

/**
 * The text with Markdown markup removed (code bodies, link targets and table cells kept): what is
 * sent when Discord rejects the formatted version. Usually shorter than the input, not always
 * (tables are padded, rules drawn): the caller checks the length.
 */
export function toPlainText(md: string): string {
  const out: string[] = [];
  for (const b of blocks(md)) {
    if (b.kind === 'code') out.push(...b.body);
    else if (b.kind === 'table') out.push(...renderTable(b.rows));
    else out.push(...b.lines.map(plainLine));
  }
  return out.join('\n');
}
