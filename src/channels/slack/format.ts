/**
 * Markdown as language models write it → Slack mrkdwn. Slack has its own dialect: `*bold*`,
 * `_italic_`, `~strike~`, `` `code` ``, ```` ``` ```` blocks without a language, `<url|text>`
 * links, `>` quotes, no headings, no list syntax; `&`, `<` and `>` must be escaped as entities.
 */

const SLOT = /\uE000(\d+)\uE001/g;
const BOLD = '\uE002';
const PRIVATE = /[\uE000-\uE002]/g;

/** Escapes the three characters Slack treats as markup. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack control sequences an agent may write on purpose: user and channel mentions only. */
const KEPT_SEQUENCE = /<(?:@[UW][A-Z0-9]+|#C[A-Z0-9]+(?:\|[^<>|]*)?)>/g;

const SAFE_URL = /^(?:https?:\/\/|mailto:)[^\s<>]+$/i;

function slackLink(url: string, label: string): string {
  if (!SAFE_URL.test(url)) return escapeMrkdwn(label ? `${label} (${url})` : url);
  const href = escapeMrkdwn(url).replace(/\|/g, '%7C');
  const text = escapeMrkdwn(label.replace(/\*\*|__|`/g, '').replace(/\|/g, '¦')).trim();
  return text && text !== url ? `<${href}|${text}>` : `<${href}>`;
}

/** Converts the inline syntax of one line (no line breaks inside). */
export function inlineToMrkdwn(text: string): string {
  const slots: string[] = [];
  const keep = (out: string) => `\uE000${slots.push(out) - 1}\uE001`;
  let s = text.replace(PRIVATE, '');
  // Code spans first: nothing inside them is formatting.
  s = s.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (_m, _ticks, code: string) =>
    keep('`' + escapeMrkdwn(code.trim()) + '`'),
  );
  s = s.replace(/!\[([^\]]*)\]\(\s*<?([^()\s<>]+)>?(?:\s+"[^"]*")?\s*\)/g, (_m, alt, url) =>
    keep(slackLink(url, alt)),
  );
  s = s.replace(/\[([^\]]+)\]\(\s*<?([^()\s<>]+)>?(?:\s+"[^"]*")?\s*\)/g, (_m, label, url) =>
    keep(slackLink(url, label)),
  );
  s = s.replace(/<((?:https?:\/\/|mailto:)[^\s<>]+)>/gi, (_m, url) => keep(slackLink(url, '')));
  s = s.replace(KEPT_SEQUENCE, (m) => keep(m));
  s = escapeMrkdwn(s);
  s = s.replace(/\*\*\*(?=\S)([^*]*?\S)\*\*\*/g, `${BOLD}_$1_${BOLD}`);
  s = s.replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, `${BOLD}$1${BOLD}`);
  s = s.replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, `$1${BOLD}$2${BOLD}`);
  s = s.replace(/(^|[^\w*])\*(?=[^\s*])([^*]*?[^\s*])\*(?![\w*])/g, '$1_$2_');
  s = s.replace(/~~(?=\S)([\s\S]*?\S)~~/g, '~$1~');
  s = s.replace(new RegExp(BOLD, 'g'), '*');
  return s.replace(SLOT, (_m, i: string) => slots[Number(i)] ?? '');
}

function lineToMrkdwn(line: string): string {
  const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
  if (heading) {
    const body = inlineToMrkdwn(heading[1]!.replace(/\*\*|__/g, ''));
    return body ? `*${body}*` : '';
  }
  if (/^\s{0,3}([-*_])(?:\s*\1){2,}\s*$/.test(line)) return '──────────';
  const quote = /^\s{0,3}>\s?(.*)$/.exec(line);
  if (quote) return `> ${inlineToMrkdwn(quote[1]!)}`;
  const task = /^(\s*)[-*+]\s+\[([ xX])\]\s+(.*)$/.exec(line);
  if (task) return `${task[1]}${task[2] === ' ' ? '☐' : '☑'} ${inlineToMrkdwn(task[3]!)}`;
  const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(line);
  if (bullet) return `${bullet[1]}• ${inlineToMrkdwn(bullet[2]!)}`;
  const numbered = /^(\s*)(\d+)[.)]\s+(.*)$/.exec(line);
  if (numbered) return `${numbered[1]}${numbered[2]}. ${inlineToMrkdwn(numbered[3]!)}`;
  return inlineToMrkdwn(line);
}

const codeBlock = (lines: string[]) => '```\n' + escapeMrkdwn(lines.join('\n')) + '\n```';

/**
 * Markdown → Slack mrkdwn. Fenced code keeps its content verbatim (escaped) and loses its
 * language tag, which Slack would show as text; an unclosed fence (a reply split mid-block) is
 * closed at the end so the rest of the message is not swallowed.
 */
export function markdownToMrkdwn(markdown: string): string {
  const out: string[] = [];
  let fence: { marker: string; lines: string[] } | null = null;
  for (const line of markdown.replace(/\r\n?/g, '\n').split('\n')) {
    const f = /^\s{0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (fence) {
      const closes =
        f && f[1]![0] === fence.marker[0] && f[1]!.length >= fence.marker.length && !f[2]!.trim();
      if (closes) {
        out.push(codeBlock(fence.lines));
        fence = null;
      } else fence.lines.push(line);
      continue;
    }
    if (f && !(f[1]![0] === '`' && f[2]!.includes('`'))) fence = { marker: f[1]!, lines: [] };
    else out.push(lineToMrkdwn(line));
  }
  if (fence) out.push(codeBlock(fence.lines));
  return out.join('\n');
}

/** The plain-text fallback when Slack refuses formatted text: the words as written, escaped. */
export function markdownToPlain(markdown: string): string {
  return escapeMrkdwn(markdown.replace(PRIVATE, ''));
}
