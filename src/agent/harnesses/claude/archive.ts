import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MAX_TOOL_TEXT = 2000;

type Block = { type?: string; text?: string; name?: string; input?: unknown; content?: unknown };
interface Entry {
  type?: string;
  isMeta?: boolean;
  isSidechain?: boolean;
  timestamp?: string;
  message?: { role?: string; content?: string | Block[] };
}

const clip = (s: string, n = MAX_TOOL_TEXT) =>
  s.length > n ? `${s.slice(0, n)}… (${s.length - n} more characters)` : s;

function blockText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as Block[])
    .map((b) => (typeof b.text === 'string' ? b.text : ''))
    .filter(Boolean)
    .join('\n');
}

/**
 * Renders a Claude Code transcript (JSONL) as Markdown: the user's and the assistant's text,
 * with tool calls and their results shortened. Sidechains (subagents), meta entries and
 * bookkeeping lines are left out; unreadable lines are skipped.
 */
export function transcriptToMarkdown(jsonl: string, title: string): string {
  const out = [`# ${title}`, ''];
  for (const line of jsonl.split('\n')) {
    if (!line.trim()) continue;
    let e: Entry;
    try {
      e = JSON.parse(line) as Entry;
    } catch {
      continue;
    }
    if ((e.type !== 'user' && e.type !== 'assistant') || e.isMeta || e.isSidechain) continue;
    const content = e.message?.content;
    const blocks: Block[] =
      typeof content === 'string' ? [{ type: 'text', text: content }] : (content ?? []);
    const parts: string[] = [];
    for (const b of blocks) {
      if (b.type === 'text' && b.text?.trim()) parts.push(b.text.trim());
      else if (b.type === 'tool_use')
        parts.push(`> tool \`${b.name ?? '?'}\`: \`${clip(JSON.stringify(b.input ?? {}), 500)}\``);
      else if (b.type === 'tool_result') {
        const text = blockText(b.content).trim();
        parts.push(`> result:\n${clip(text).replace(/^/gm, '> ')}`);
      }
    }
    if (parts.length === 0) continue;
    const toolOnly = blocks.every((b) => b.type === 'tool_result');
    const who = e.type === 'assistant' ? 'Assistant' : toolOnly ? 'Tool result' : 'User';
    out.push(`## ${who}${e.timestamp ? ` · ${e.timestamp}` : ''}`, '', parts.join('\n\n'), '');
  }
  return out.join('\n');
}

/**
 * Archives the transcript at `transcriptPath` into `<workdir>/conversations/<timestamp>.md`
 * (`-2`, `-3`… when that name is taken). Returns the file written.
 */
export function archiveTranscript(
  transcriptPath: string,
  workdir: string,
  now = new Date(),
): string {
  const dir = join(workdir, 'conversations');
  mkdirSync(dir, { recursive: true });
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  let file = join(dir, `${stamp}.md`);
  for (let n = 2; existsSync(file); n++) file = join(dir, `${stamp}-${n}.md`);
  const md = transcriptToMarkdown(
    readFileSync(transcriptPath, 'utf8'),
    `Conversation archived before compaction, ${now.toISOString()}`,
  );
  writeFileSync(file, md);
  return file;
}
