/**
 * What a delegation says to each side: the delegate's prompt, the caller's tool result, and
 * the message a `wait: false` result arrives as in the caller's chat.
 */
import type { IpcResult } from '../ipc/request-handler.js';
import type { DelegationRecord } from '../store/delegations.js';
import { handoffRel } from './handoff.js';

const fail = (code: string, message: string): IpcResult => ({
  ok: false,
  error: { code, message },
});

/** What the delegate reads: who asks, where the hand-off folder is, then the task itself. */
export function delegatePrompt(d: DelegationRecord): string {
  const folder = `/workspace/group/${handoffRel(d.id)}/`;
  const inputs = d.files.length
    ? ` It holds the files handed to you: ${d.files.map((f) => f.split('/').pop()).join(', ')}.`
    : '';
  return [
    `[Delegated by group "${d.callerGroup}" (delegation ${d.id}). Your final reply is returned to that agent, not sent to any chat.]`,
    `[Hand-off folder: ${folder}${inputs} Files you leave there are copied back to the caller.]`,
    '',
    d.prompt,
  ].join('\n');
}

/** The tool result of an ended delegation. */
export function resultOf(d: DelegationRecord): IpcResult {
  if (d.status === 'ok')
    return {
      ok: true,
      result: {
        delegation: d.id,
        group: d.delegateGroup,
        run: d.runId,
        status: 'ok',
        reply: d.reply ?? '',
        files: d.handoff.filter((f) => f.skipped === undefined),
        skipped: d.handoff.filter((f) => f.skipped !== undefined),
      },
    };
  return fail(
    d.status === 'abandoned' ? 'abandoned' : 'delegate_failed',
    `delegation ${d.id} to group "${d.delegateGroup}" ${d.status === 'abandoned' ? 'was abandoned' : 'failed'}: ${d.error ?? 'no reason given'}`,
  );
}

/** The message a `wait: false` result arrives as in the caller's chat. */
export function resultMessage(d: DelegationRecord): string {
  if (d.status !== 'ok')
    return `[Delegation ${d.id} to group "${d.delegateGroup}" failed: ${d.error ?? 'no reason given'}]`;
  const files = d.handoff.filter((f) => f.skipped === undefined).map((f) => f.path);
  const skipped = d.handoff.filter((f) => f.skipped !== undefined);
  return [
    `[Result of delegation ${d.id} to group "${d.delegateGroup}" (run ${d.runId})]`,
    d.reply || '(no reply)',
    ...(files.length ? ['', `Files: ${files.join(', ')}`] : []),
    ...(skipped.length
      ? ['', `Not copied: ${skipped.map((s) => `${s.path} (${s.skipped})`).join('; ')}`]
      : []),
  ].join('\n');
}
