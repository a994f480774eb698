import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { RunRecord } from '../../store/runs.js';
import { ApiClient, type ChatMessage } from '../api-client.js';
import { LiveChat } from '../live-chat.js';
import { secondsOption } from '../local.js';
import { ReplyWaiter } from '../reply-wait.js';

export interface SendOptions {
  /** Wait for the reply (default true). */
  wait?: boolean;
  timeoutMs?: number;
  /** Called with each reply message as it arrives. */
  onReply?: (msg: ChatMessage) => void;
  /** Progress and warnings meant for stderr. */
  onNote?: (text: string) => void;
}

export interface SendResult {
  seq: number;
  replies: ChatMessage[];
  /** Why nothing will answer (the message does not wake a group: unbound chat, no trigger…). */
  skipped?: string;
  /** The run ended without an answer for good (every attempt failed, or nothing can run it). */
  failed?: string;
}

/**
 * Posts `text` to `chat` as the owner and (unless `wait: false`) waits until the run that takes
 * the message has answered and its replies are delivered, printing each piece as it arrives.
 * The event stream is opened before posting and stored messages are read once after, so no
 * reply can slip between the two. A message that wakes nothing returns at once with why.
 * Throws on timeout.
 */
export async function sendMessage(
  client: ApiClient,
  chat: string,
  text: string,
  opts: SendOptions = {},
): Promise<SendResult> {
  const note = opts.onNote ?? (() => undefined);
  await client.health();
  if (opts.wait === false) {
    const { seq } = await client.postMessage(chat, text);
    return { seq, replies: [] };
  }

  const replies: ChatMessage[] = [];
  const early: Array<{ msg?: ChatMessage; run?: RunRecord }> = [];
  let waiter: ReplyWaiter | undefined;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));

  /** The answered run's replies still on their way; done when none is. */
  const checkDelivery = async () => {
    const state = waiter?.state;
    if (state?.name !== 'delivering') return;
    const run = await client.run(state.runId);
    if (waiter!.onDelivery(run.id, run.replies.pending + run.replies.sending).name === 'done')
      finish();
  };
  const onMessage = (msg: ChatMessage) => {
    if (!waiter) return void early.push({ msg });
    const reply = waiter.onMessage(msg);
    if (reply) {
      replies.push(reply);
      opts.onReply?.(reply);
      void checkDelivery().catch(() => undefined);
    }
  };
  const onRun = (run: RunRecord) => {
    if (!waiter) return void early.push({ run });
    if (waiter.ours(run) && run.status === 'error')
      note(`run ${run.id} failed: ${run.error ?? 'no reason given'} (it will be retried)`);
    const state = waiter.onRun(run);
    if (state.name === 'failed') finish();
    else if (state.name === 'delivering') void checkDelivery().catch(() => undefined);
  };

  const live = new LiveChat(client, chat, {
    onMessage,
    onRun,
    onConnection: (state, detail) =>
      note(
        state === 'lost'
          ? `connection to the daemon lost (${detail ?? '?'}); reconnecting…`
          : 'reconnected',
      ),
  });
  await live.start(null);
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const deadline = setTimeout(finish, timeoutMs);
  try {
    const posted = await client.postMessage(chat, text);
    if (posted.wakes === false)
      return { seq: posted.seq, replies: [], skipped: `nothing will answer: ${posted.quiet}` };
    waiter = new ReplyWaiter({ postedSeq: posted.seq, chat });
    for (const e of early.splice(0)) {
      if (e.msg) onMessage(e.msg);
      else if (e.run) onRun(e.run);
    }
    await live.catchUp(posted.seq);
    await done;
    const state = waiter.state;
    if (state.name === 'failed') return { seq: posted.seq, replies, failed: state.error };
    if (state.name !== 'done') {
      const what = state.name === 'delivering' ? 'the reply was not fully delivered' : 'no reply';
      throw new Error(
        `${what} within ${Math.round(timeoutMs / 1000)} s (the run may still be going: clawpod runs list)`,
      );
    }
    return { seq: posted.seq, replies };
  } finally {
    clearTimeout(deadline);
    live.stop();
  }
}

/** `clawpod send <chat> <text> [--no-wait] [--timeout <s>]`: replies go to stdout, notes to stderr. */
export function registerSend(program: Command): void {
  program
    .command('send <chat> <text>')
    .description(
      'send a message as the owner; print every piece of the answer; exit 1 if nothing answers',
    )
    .option('--no-wait', 'return as soon as the message is stored')
    .option('--timeout <seconds>', 'how long to wait for the answer', secondsOption, 300)
    .action(async (chat: string, text: string, opts: { wait: boolean; timeout: number }) => {
      const config = loadConfig();
      const client = ApiClient.fromConfig(config);
      const result = await sendMessage(client, chat, text, {
        wait: opts.wait,
        timeoutMs: opts.timeout * 1000,
        onReply: (m) => console.log(m.text),
        onNote: (t) => console.error(`clawpod: ${t}`),
      });
      if (!opts.wait) console.error(`sent (seq ${result.seq})`);
      if (result.skipped) {
        console.error(`clawpod: sent (seq ${result.seq}), but ${result.skipped}`);
        process.exitCode = 1;
      }
      if (result.failed) {
        console.error(`clawpod: the message was not answered: ${result.failed}`);
        process.exitCode = 1;
      }
    });
}
