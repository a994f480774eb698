import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiveTranscript, transcriptToMarkdown } from './archive.js';

const lines = [
  { type: 'queue-operation', operation: 'enqueue' },
  {
    type: 'user',
    timestamp: '2026-11-26T10:00:00Z',
    message: { role: 'user', content: 'What is on my list?' },
  },
  { type: 'user', isMeta: true, message: { role: 'user', content: 'meta noise' } },
  {
    type: 'assistant',
    message: {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', name: 'Bash', input: { command: 'cat list.txt' } },
      ],
    },
  },
  {
    type: 'user',
    message: {
      role: 'user',
      content: [{ type: 'tool_result', content: [{ type: 'text', text: 'milk\neggs' }] }],
    },
  },
  {
    type: 'assistant',
    isSidechain: true,
    message: { role: 'assistant', content: [{ type: 'text', text: 'subagent noise' }] },
  },
  {
    type: 'assistant',
    message: { role: 'assistant', content: [{ type: 'text', text: 'Milk and eggs.' }] },
  },
];
const jsonl = lines.map((l) => JSON.stringify(l)).join('\n') + '\n{not json\n';

describe('transcript archive', () => {
  it('renders the conversation, shortens tools, skips meta and sidechains', () => {
    const md = transcriptToMarkdown(jsonl, 'T');
    expect(md).toMatch(/^# T\n/);
    expect(md).toContain('## User · 2026-11-26T10:00:00Z\n\nWhat is on my list?');
    expect(md).toContain('> tool `Bash`: `{"command":"cat list.txt"}`');
    expect(md).toContain('## Tool result\n\n> result:\n> milk\n> eggs');
    expect(md).toContain('Milk and eggs.');
    expect(md).not.toContain('meta noise');
    expect(md).not.toContain('subagent noise');
  });

  it('writes conversations/<timestamp>.md without overwriting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'archive-'));
    const src = join(dir, 't.jsonl');
    writeFileSync(src, jsonl);
    const now = new Date('2026-11-26T10:05:07.123Z');
    const a = archiveTranscript(src, join(dir, 'group'), now);
    const b = archiveTranscript(src, join(dir, 'group'), now);
    expect(a).toMatch(/conversations\/2026-11-26T10-05-07Z\.md$/);
    expect(b).toMatch(/conversations\/2026-11-26T10-05-07Z-2\.md$/);
    expect(readdirSync(join(dir, 'group', 'conversations'))).toHaveLength(2);
    expect(readFileSync(a, 'utf8')).toContain('Milk and eggs.');
  });
});
