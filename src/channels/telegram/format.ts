/**
 * Markdown as language models write it → Telegram's HTML parse mode.
 *
 * Contract: the result is always well-formed for Telegram (only `b i s code pre a blockquote`,
 * every tag closed, `& < > "` escaped), and its visible text is never longer than the input, so
 * a piece the outbox cut to 4,096 characters still fits after conversion. Telegram forbids
 * entities inside `code`/`pre` and `code` inside emphasis or links; such code is kept as plain
 * text there. Anything not understood stays as literal (escaped) text.
 */

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttr = (s: string): string => escapeHtml(s).replace(/"/g, '&quot;');

const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([\w+#.-]*)[^`]*$/;
const HEADING = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/;
const RULE = /^\s{0,3}([-*_])(?:\s*\1){2,}\s*$/;
const BULLET = /^(\s*)[-*+]\s+(.*)$/;
const ORDERED = /^(\s*)(\d{1,9}[.)])\s+(.*)$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const TABLE_ROW = /^\s*\|.*$/;
const SAFE_URL = /^(https?:\/\/|tg:\/\/|mailto:)[^\s]+$/i;
const PUNCT = /[!-/:-@[-`{-~]/;

/** Converts Markdown to Telegram HTML (see the module comment for the guarantees). */
export function markdownToTelegramHtml(markdown: string): string {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1]!;
      const body: string[] = [];
      i++;
      // An unclosed fence (a piece cut by the outbox) runs to the end of the text.
      while (i < lines.length && !isFenceClose(lines[i]!, marker)) body.push(lines[i++]!);
      i++;
      const lang = fence[2]!.replace(/[^\w+#-]/g, '');
      const code = escapeHtml(body.join('\n'));
      out.push(
        lang ? `<pre><code class="language-${lang}">${code}</code></pre>` : `<pre>${code}</pre>`,
      );
      continue;
    }
    if (TABLE_ROW.test(line) && TABLE_ROW.test(lines[i + 1] ?? '')) {
      const rows: string[] = [];
      while (i < lines.length && TABLE_ROW.test(lines[i]!)) rows.push(lines[i++]!.trim());
      out.push(`<pre>${escapeHtml(rows.join('\n'))}</pre>`);
      continue;
    }
    if (QUOTE.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i]!)) quoted.push(QUOTE.exec(lines[i++]!)![1]!);
      out.push(`<blockquote>${quoted.map(convertLine).join('\n')}</blockquote>`);
      continue;
    }
    out.push(convertLine(line));
    i++;
  }
  return out.join('\n');
}

function isFenceClose(line: string, marker: string): boolean {
  const t = line.trim();
  return t.length >= marker.length && t === marker[0]!.repeat(t.length);
}

/** One line outside code blocks: headings, rules and list markers, then inline formatting. */
function convertLine(line: string): string {
  const heading = HEADING.exec(line);
  if (heading) return heading[1] ? `<b>${inline(heading[1], {})}</b>` : '';
  if (RULE.test(line)) return '———';
  const bullet = BULLET.exec(line);
  if (bullet) return `${bullet[1]}• ${inline(bullet[2]!, {})}`;
  const ordered = ORDERED.exec(line);
  if (ordered) return `${ordered[1]}${ordered[2]} ${inline(ordered[3]!, {})}`;
  return inline(line, {});
}

interface InlineContext {
  /** Inside a link: no nested links, code as plain text. */
  inLink?: boolean;
  /** Inside emphasis: code as plain text (Telegram refuses code within bold/italic). */
  inEmphasis?: boolean;
}

function inline(src: string, ctx: InlineContext): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\' && i + 1 < src.length && PUNCT.test(src[i + 1]!)) {
      out += escapeHtml(src[i + 1]!);
      i += 2;
      continue;
    }
    if (c === '`') {
      const span = codeSpan(src, i);
      if (span) {
        const code = escapeHtml(span.code);
        out += ctx.inLink || ctx.inEmphasis ? code : `<code>${code}</code>`;
        i = span.end;
        continue;
      }
      const run = runLength(src, i, '`');
      out += src.slice(i, i + run);
      i += run;
      continue;
    }
    const image = c === '!' && src[i + 1] === '[';
    if ((c === '[' || image) && !ctx.inLink) {
      const link = matchLink(src, image ? i + 1 : i);
      if (link) {
        const label = link.text.trim() ? inline(link.text, { ...ctx, inLink: true }) : '';
        if (SAFE_URL.test(link.url)) {
          out += `<a href="${escapeAttr(link.url)}">${label || escapeHtml(link.url)}</a>`;
        } else {
          out += label ? `${label} (${escapeHtml(link.url)})` : escapeHtml(link.url);
        }
        i = link.end;
        continue;
      }
    }
    if (c === '*' || c === '_' || c === '~') {
      const em = matchEmphasis(src, i);
      if (em) {
        out += `<${em.tag}>${inline(em.inner, { ...ctx, inEmphasis: true })}</${em.tag}>`;
        i = em.end;
        continue;
      }
    }
    out += escapeHtml(c);
    i++;
  }
  return out;
}

function runLength(src: string, at: number, ch: string): number {
  let n = 0;
  while (src[at + n] === ch) n++;
  return n;
}

/** A code span opened by a run of backticks at `at`, closed by a run of the same length. */
function codeSpan(src: string, at: number): { code: string; end: number } | undefined {
  const run = runLength(src, at, '`');
  let j = at + run;
  while (j < src.length) {
    if (src[j] === '`') {
      const close = runLength(src, j, '`');
      if (close === run) {
        let code = src.slice(at + run, j);
        if (code.length > 2 && code.startsWith(' ') && code.endsWith(' ')) code = code.slice(1, -1);
        return code ? { code, end: j + close } : undefined;
      }
      j += close;
    } else j++;
  }
  return undefined;
}

/** `[text](url)` starting at `at` (the `[`); nested brackets and one level of parens in urls. */
function matchLink(
  src: string,
  at: number,
): { text: string; url: string; end: number } | undefined {
  let depth = 0;
  let j = at;
  for (; j < src.length; j++) {
    const ch = src[j];
    if (ch === '\\') j++;
    else if (ch === '[') depth++;
    else if (ch === ']' && --depth === 0) break;
  }
  if (j >= src.length || src[j + 1] !== '(') return undefined;
  const rest = /^\(\s*<?((?:[^\s()<>]|\([^\s()<>]*\))*)>?(?:\s+"[^"]*")?\s*\)/.exec(
    src.slice(j + 1),
  );
  if (!rest || !rest[1]) return undefined;
  return { text: src.slice(at + 1, j), url: rest[1], end: j + 1 + rest[0].length };
}

const isSpace = (ch: string | undefined) => ch === undefined || /\s/.test(ch);
const isWord = (ch: string | undefined) => ch !== undefined && /[\p{L}\p{N}]/u.test(ch);

/**
 * `**b**`/`__b__` → b, `*i*`/`_i_` → i, `~~s~~` → s. An opener must be followed by a non-space;
 * a closer preceded by one; underscores never open or close inside a word (snake_case).
 */
function matchEmphasis(
  src: string,
  at: number,
): { tag: 'b' | 'i' | 's'; inner: string; end: number } | undefined {
  const ch = src[at]!;
  const double = src[at + 1] === ch;
  if (ch === '~' && !double) return undefined;
  const len = double ? 2 : 1;
  const tag = ch === '~' ? 's' : double ? 'b' : 'i';
  if (isSpace(src[at + len])) return undefined;
  if (ch === '_' && isWord(src[at - 1])) return undefined;
  let j = at + len;
  while (j < src.length) {
    const c = src[j];
    if (c === '\\') {
      j += 2;
      continue;
    }
    if (c === '`') {
      const span = codeSpan(src, j);
      j = span ? span.end : j + runLength(src, j, '`');
      continue;
    }
    if (c === ch) {
      const run = runLength(src, j, ch);
      // `**` closes on a run of 2+ (its last two); `*` on a run of 1 or 3+ (its last one: a
      // run of 2 is a nested bold, skipped).
      const closeAt = double && run >= 2 ? j + run - 2 : !double && run !== 2 ? j + run - 1 : -1;
      if (
        closeAt > at + len &&
        !isSpace(src[closeAt - 1]) &&
        !(ch === '_' && isWord(src[closeAt + len]))
      ) {
        return { tag, inner: src.slice(at + len, closeAt), end: closeAt + len };
      }
      j += run;
      continue;
    }
    j++;
  }
  return undefined;
}
