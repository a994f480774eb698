import { describe, expect, it } from 'vitest';
import type { StartRequest } from '../../protocol/runner-protocol.js';
import { codexInstructions } from './codex/config.js';
import { claudePaths, systemPromptAppend } from './claude/options.js';
import { mountsNote } from './mounts-note.js';

const start = (mounts?: StartRequest['mounts']): StartRequest => ({
  type: 'start',
  sessionId: 'ses_1',
  sessionToken: 'x'.repeat(24),
  group: 'coder',
  isMain: false,
  harness: 'codex',
  command: null,
  model: null,
  resumeId: null,
  timezone: 'UTC',
  assistantName: 'Andy',
  ...(mounts ? { mounts } : {}),
});

const mounts = [
  { name: 'app', path: '/workspace/extra/app', readOnly: false },
  { name: 'docs', path: '/workspace/extra/docs', readOnly: true },
];

describe('the agent is told where its mounts are', () => {
  it('lists each mount with ro/rw, in Claude’s system prompt and Codex’s instructions', () => {
    const line =
      'Host folders mounted for this group: /workspace/extra/app (read-write), /workspace/extra/docs (read-only).';
    expect(mountsNote(start(mounts))).toContain(line);
    expect(systemPromptAppend(start(mounts), claudePaths({}))).toContain(`- ${line}`);
    expect(codexInstructions(start(mounts), '/workspace/group')).toContain(line);
  });

  it('says nothing of mounts when there are none', () => {
    expect(mountsNote(start())).toBeNull();
    expect(systemPromptAppend(start(), claudePaths({}))).not.toContain('mounted');
    expect(codexInstructions(start([]), '/workspace/group')).not.toContain('mounted');
    expect(
      mountsNote(start([{ name: 'd', path: '/workspace/extra/d', readOnly: true }])),
    ).not.toContain('read-write');
  });
});
