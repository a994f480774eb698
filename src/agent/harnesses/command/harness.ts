import { spawn } from 'node:child_process';
import type { RunnerEvent } from '../../../protocol/runner-protocol.js';
import type { HarnessFactory } from '../harness.js';

const MAX_OUTPUT = 1024 * 1024;

/**
 * The `command` harness: runs the group's shell command with the prompt on stdin and takes its
 * stdout as the reply. Each stdout chunk is also reported as it comes (`partial`), so a live
 * view shows the reply being written. A non-zero exit is an error carrying the end of stderr.
 */
export const createHarness: HarnessFactory = (start, env) => ({
  name: 'command',
  async *turn(prompt, _sessionId, signal): AsyncGenerator<RunnerEvent> {
    if (!start.command) {
      yield {
        type: 'error',
        message: 'the command harness needs a command: clawpod groups set <group> command="…"',
        retryable: false,
      };
      return;
    }
    const child = spawn('/bin/sh', ['-c', start.command], {
      cwd: env.CLAWPOD_WORKDIR ?? process.cwd(),
      env: {
        ...env,
        CLAWPOD_GROUP: start.group,
        CLAWPOD_SESSION_ID: start.sessionId,
        // For IPC requests (see ipc.ts): tools then default to this conversation's chat.
        CLAWPOD_SESSION_TOKEN: start.sessionToken,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
      signal,
    });
    let out = '';
    let err = '';
    // Chunks not yet reported, and a wake-up for the loop below (data or close).
    let fresh = '';
    let wake: (() => void) | undefined;
    const decoder = new TextDecoder('utf-8');
    child.stdout.on('data', (b: Buffer) => {
      if (out.length >= MAX_OUTPUT) return;
      // stream: true keeps a multi-byte character split across chunks whole.
      const text = decoder.decode(b, { stream: true });
      out += text;
      fresh += text;
      wake?.();
    });
    child.stderr.on('data', (b: Buffer) => {
      err = (err + b.toString('utf8')).slice(-2000);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(prompt);
    let code: number | null | undefined;
    child.once('error', () => {
      code = null;
      wake?.();
    });
    child.once('close', (c) => {
      code ??= c;
      wake?.();
    });
    for (;;) {
      if (fresh) {
        const text = fresh;
        fresh = '';
        yield { type: 'partial', text };
        continue;
      }
      if (code !== undefined) break;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
    // 127 (not found) and 126 (not executable): a retry cannot help. The usual cause is a host
    // path, which does not exist in the sandbox.
    if (code === 127 || code === 126) {
      yield {
        type: 'error',
        message:
          `command "${start.command}" exited with ${code} (${code === 127 ? 'not found' : 'not executable'}): ` +
          'it runs inside the sandbox, in /workspace/group (the group folder), where host paths do not exist; ' +
          'copy the program into the group folder and name it /workspace/group/<file>' +
          (err ? `: ${err.trim()}` : ''),
        retryable: false,
      };
      return;
    }
    if (code !== 0) {
      yield {
        type: 'error',
        message: `command exited with ${code ?? 'an error'}${err ? `: ${err.trim()}` : ''}`,
      };
      return;
    }
    if (out.trim()) yield { type: 'message', text: out.slice(0, MAX_OUTPUT) };
    yield { type: 'result' };
  },
});
