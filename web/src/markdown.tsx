import type { ComponentChildren, VNode } from 'preact';

/**
 * A small Markdown renderer that builds elements, never HTML strings: raw HTML in a message is
 * shown as text, and only http(s) and mailto links become links. Covers what chat replies use:
 * fenced code, headings, lists, quotes, tables, rules, paragraphs with line breaks; inline
 * code, bold, italic, strike-through, links and bare URLs.
 */

const SAFE_URL = /^(https?:\/\/|mailto:)/i;

/** Inline patterns, tried together; the earliest match wins. */
const INLINE =
  /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)|\*\*(?=\S)([\s\S]*?\S)\*\*|__(?=\S)([\s\S]*?\S)__|~~(?=\S)([\s\S]*?\S)~~|\*(?=[^\s*])([\s\S]*?[^\s*])\*|(?<![A-Za-z0-9])_(?=[^\s_])([\s\S]*?[^\s_])_(?![A-Za-z0-9])|\[([^\]\n]+)\]\(\s*<?([^)\s>]+)>?\s*\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/;

export function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let rest = text;
  while (rest) {
    const m = INLINE.exec(rest);
    if (!m) {
      out.push(rest);
      break;
    }
    if (m.index > 0) out.push(rest.slice(0, m.index));
    rest = rest.slice(m.index + m[0].length);
    if (m[2] !== undefined) out.push(<code>{m[2]}</code>);
    else if (m[3] !== undefined) out.push(<strong>{inline(m[3])}</strong>);
    else if (m[4] !== undefined) out.push(<strong>{inline(m[4])}</strong>);
    else if (m[5] !== undefined) out.push(<del>{inline(m[5])}</del>);
    else if (m[6] !== undefined) out.push(<em>{inline(m[6])}</em>);
    else if (m[7] !== undefined) out.push(<em>{inline(m[7])}</em>);
    else if (m[8] !== undefined) out.push(link(m[9]!, inline(m[8]), m[0]));
    else if (m[10] !== undefined) out.push(link(m[10], m[10], m[0]));
  }
  return out;
}

function link(url: string, children: ComponentChildren, raw: string): ComponentChildren {
  if (!SAFE_URL.test(url)) return raw;
  return (
    <a href={url} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  );
}

/** Inline text with its single line breaks kept. */
function lines(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  text.split('\n').forEach((line, i) => {
    if (i > 0) out.push(<br />);
    out.push(...inline(line));
  });
  return out;
}

const FENCE = /^ {0,3}(```+|~~~+)\s*([\w+-]*)\s*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const BULLET = /^(\s*)([-*+])\s+(.*)$/;
const ORDERED = /^(\s*)(\d{1,9})[.)]\s+(.*)$/;
const QUOTE = /^ {0,3}>\s?(.*)$/;
const TABLE_SEP = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;

const cells = (row: string): string[] =>
  row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'));

/** Renders Markdown `text` as elements. */
export function Markdown({ text }: { text: string }): VNode {
  return <div class="md">{blocks(text.replace(/\r\n?/g, '\n').split('\n'))}</div>;
}

function blocks(src: string[]): VNode[] {
  const out: VNode[] = [];
  let i = 0;
  while (i < src.length) {
    const line = src[i]!;
    if (!line.trim()) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < src.length && !src[i]!.trim().startsWith(fence[1]!)) body.push(src[i++]!);
      i++; // the closing fence (or the end)
      out.push(
        <pre data-lang={fence[2] || undefined}>
          <code>{body.join('\n')}</code>
        </pre>,
      );
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const level = Math.min(heading[1]!.length + 2, 6); // h3…h6 inside a message
      const H = `h${level}` as 'h3';
      out.push(<H>{inline(heading[2]!)}</H>);
      i++;
      continue;
    }
    if (RULE.test(line)) {
      out.push(<hr />);
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const body: string[] = [];
      while (i < src.length && QUOTE.test(src[i]!)) body.push(QUOTE.exec(src[i++]!)![1]!);
      out.push(<blockquote>{blocks(body)}</blockquote>);
      continue;
    }
    if (line.includes('|') && i + 1 < src.length && TABLE_SEP.test(src[i + 1]!)) {
      const head = cells(line);
      const rows: string[][] = [];
      i += 2;
      while (i < src.length && src[i]!.includes('|') && src[i]!.trim()) rows.push(cells(src[i++]!));
      out.push(
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                {head.map((h) => (
                  <th>{inline(h)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr>
                  {head.map((_, j) => (
                    <td>{inline(r[j] ?? '')}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>,
      );
      continue;
    }
    if (BULLET.test(line) || ORDERED.test(line)) {
      const ordered = ORDERED.test(line);
      const re = ordered ? ORDERED : BULLET;
      const items: string[][] = [];
      const start = ordered ? Number(ORDERED.exec(line)![2]) : 1;
      const indent = re.exec(line)![1]!.length;
      while (i < src.length) {
        const l = src[i]!;
        const m = re.exec(l);
        if (m && m[1]!.length <= indent + 1) items.push([m[3]!]);
        else if (l.trim() && /^\s{2,}/.test(l) && items.length)
          items.at(-1)!.push(l.replace(new RegExp(`^\\s{${indent},${indent + 4}}`), ''));
        else if (
          !l.trim() &&
          i + 1 < src.length &&
          (re.exec(src[i + 1]!) || /^\s{2,}\S/.test(src[i + 1]!))
        ) {
          /* a blank line inside the list */
        } else break;
        i++;
      }
      const lis = items.map((it) => <li>{it.length === 1 ? lines(it[0]!) : blocks(it)}</li>);
      out.push(ordered ? <ol start={start === 1 ? undefined : start}>{lis}</ol> : <ul>{lis}</ul>);
      continue;
    }
    const para: string[] = [];
    while (
      i < src.length &&
      src[i]!.trim() &&
      !FENCE.test(src[i]!) &&
      !HEADING.test(src[i]!) &&
      !QUOTE.test(src[i]!) &&
      !(para.length && (BULLET.test(src[i]!) || ORDERED.test(src[i]!)))
    )
      para.push(src[i++]!);
    out.push(<p>{lines(para.join('\n'))}</p>);
  }
  return out;
}
