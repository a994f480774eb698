import { describe, expect, it } from 'vitest';
import type { RunnerEvent } from '../../../protocol/runner-protocol.js';
import { AppServerTurnReader, unwrapShell } from './app-server-events.js';
import { CodexApprovals, type ApprovalAsker } from './approvals.js';
import { renderRules } from './config.js';
import { codexOptionsSchema } from './spec.js';

describe('codex app-server notifications', () => {
  it('turns item starts into tool events, deltas into partials, and counts only its own turn', () => {
    const r = new AppServerTurnReader('th-1');
    const usage = (turnId: string, n: number) => ({
      threadId: 'th-1',
      turnId,
      tokenUsage: {
        total: {
          inputTokens: 10 * n,
          cachedInputTokens: n,
          cacheWriteInputTokens: 0,
          outputTokens: n,
        },
        last: {
          inputTokens: 100,
          cachedInputTokens: 10,
          cacheWriteInputTokens: 0,
          outputTokens: 5,
        },
      },
    });
    const evs: RunnerEvent[] = [
      // A resumed thread's earlier turn: not this turn's tokens.
      ['thread/tokenUsage/updated', usage('old-turn', 1)],
      ['turn/started', { threadId: 'th-1', turn: { id: 't-2' } }],
      [
        'item/started',
        {
          threadId: 'th-1',
          item: {
            type: 'commandExecution',
            command: "/bin/bash -lc 'git status && echo '\\''hi'\\'''",
          },
        },
      ],
      [
        'item/started',
        {
          threadId: 'th-1',
          item: { type: 'mcpToolCall', server: 'clawpod', tool: 'send_message' },
        },
      ],
      [
        'item/started',
        { threadId: 'th-1', item: { type: 'fileChange', changes: [{ path: 'a.ts' }] } },
      ],
      ['item/started', { threadId: 'other', item: { type: 'commandExecution', command: 'ls' } }],
      ['thread/tokenUsage/updated', usage('t-2', 2)],
      [
        'item/completed',
        { threadId: 'th-1', item: { type: 'agentMessage', text: 'Let me look.' } },
      ],
      ['item/agentMessage/delta', { threadId: 'th-1', delta: 'Do' }],
      ['item/completed', { threadId: 'th-1', item: { type: 'agentMessage', text: 'Done.' } }],
      ['thread/tokenUsage/updated', usage('t-2', 3)],
      [
        'turn/completed',
        { threadId: 'th-1', turn: { id: 't-2', status: 'completed', error: null } },
      ],
    ].flatMap(([m, p]) => r.notification(m as string, p));
    expect(evs.filter((e) => e.type !== 'log')).toEqual([
      { type: 'tool', name: 'shell', summary: "git status && echo 'hi'" },
      { type: 'tool', name: 'clawpod.send_message', summary: 'call send_message' },
      { type: 'tool', name: 'edit', summary: 'edit a.ts' },
      { type: 'partial', text: 'Do' },
    ]);
    expect(r.reply).toBe('Done.');
    expect(r.tokens).toEqual({ input: 200, cachedInput: 20, cacheWrite: 0, output: 10 });
    expect(r.totals).toEqual({ input: 30, cachedInput: 3, cacheWrite: 0, output: 3 });
    expect(r.end).toEqual({ status: 'completed' });
  });

  it('takes a failed turn’s message, else the last error notification', () => {
    const r = new AppServerTurnReader('th');
    r.notification('error', { threadId: 'th', error: { message: 'blip' }, willRetry: true });
    r.notification('error', {
      threadId: 'th',
      error: { message: 'stream died' },
      willRetry: false,
    });
    r.notification('turn/completed', { threadId: 'th', turn: { status: 'failed', error: null } });
    expect(r.end).toEqual({ status: 'failed', message: 'stream died' });
  });

  it('unwraps only a plain shell -lc wrapper', () => {
    expect(unwrapShell("/bin/bash -lc 'git push origin main'")).toBe('git push origin main');
    expect(unwrapShell("bash -c 'echo '\\''x'\\'''")).toBe("echo 'x'");
    expect(unwrapShell('git push')).toBe('git push');
  });
});

describe('codex approvals', () => {
  const asker = (answer: Awaited<ReturnType<ApprovalAsker['request']>> | Error) => {
    const seen: unknown[] = [];
    const a: ApprovalAsker = {
      request: async (_op, args) => {
        seen.push(args);
        if (answer instanceof Error) throw answer;
        return answer;
      },
    };
    return { a, seen };
  };

  it('asks approve_tool as Bash with the command; allow → accept, deny → decline', async () => {
    const allow = asker({ ok: true, result: { behavior: 'allow' } });
    const notes: RunnerEvent[] = [];
    const params = { command: "/bin/bash -lc 'git push'", cwd: '/workspace/group' };
    expect(
      await new CodexApprovals(allow.a, (e) => notes.push(e)).answer(
        'item/commandExecution/requestApproval',
        params,
      ),
    ).toEqual({ result: { decision: 'accept' } });
    expect(allow.seen).toEqual([
      { tool: 'Bash', input: { command: 'git push', cwd: '/workspace/group' } },
    ]);
    const deny = asker({ ok: true, result: { behavior: 'deny', message: 'no' } });
    expect(
      await new CodexApprovals(deny.a, () => undefined).answer(
        'item/commandExecution/requestApproval',
        params,
      ),
    ).toEqual({ result: { decision: 'decline' } });
  });

  it('declines when the host cannot answer, and refuses requests it does not know', async () => {
    const down = asker(new Error('the host did not answer approve_tool within 60 s'));
    const notes: RunnerEvent[] = [];
    const approvals = new CodexApprovals(
      down.a,
      (e) => notes.push(e),
      () => ['src/a.ts'],
    );
    expect(await approvals.answer('item/fileChange/requestApproval', { itemId: 'i1' })).toEqual({
      result: { decision: 'decline' },
    });
    expect(down.seen).toEqual([{ tool: 'Edit', input: { file_path: 'src/a.ts' } }]);
    expect(notes.some((n) => n.type === 'log' && n.level === 'warn')).toBe(true);
    expect(await approvals.answer('item/tool/requestUserInput', {})).toMatchObject({
      error: { code: -32601 },
    });
  });
});

describe('codex options', () => {
  it('takes the mode and command prefixes to ask about, and renders them as prompt rules', () => {
    expect(codexOptionsSchema.parse({ mode: 'exec', askBefore: ['git push', 'rm -rf'] })).toEqual({
      mode: 'exec',
      askBefore: ['git push', 'rm -rf'],
    });
    expect(codexOptionsSchema.safeParse({ mode: 'tui' }).success).toBe(false);
    expect(codexOptionsSchema.safeParse({ askBefore: ['git "push"'] }).success).toBe(false);
    expect(renderRules(['git push'])).toContain(
      'prefix_rule(pattern = ["git", "push"], decision = "prompt")',
    );
  });
});
