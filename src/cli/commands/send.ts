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
  /** Why no wait happened (e.g. the chat is bound to no group). */
  skipped?: string;
}

/**
 * Posts `text` to `chat` as the owner and (unless `wait: false`) collects the reply. The event
 * stream is opened before posting and the stored messages are read once after, so no reply
 * can slip between the two. Throws on timeout without any reply.
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
  const group = (await client.groups()).find((g) => g.chats.includes(chat));
  if (!group) {
    const { seq } = await client.postMessage(chat, text);
    return {
      seq,
      replies: [],
      skipped: `no group is bound to ${chat}, so nothing will answer (bind it: clawpod groups bind <group> ${chat})`,
    };
  }

  const replies: ChatMessage[] = [];
  const early: Array<{ msg?: ChatMessage; run?: RunRecord }> = [];
  let waiter: ReplyWaiter | undefined;
  let postedSeq = 0;
  let timer: NodeJS.Timeout | undefined;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));

  const schedule = () => {
    if (!waiter) return;
    clearTimeout(timer);
    const at = waiter.nextCheckAt();
    if (at === null) return;
    timer = setTimeout(
      () => (waiter!.isDone(Date.now()) ? finish() : schedule()),
      Math.max(0, at - Date.now()),
    );
  };
  const onMessage = (msg: ChatMessage) => {
    if (!waiter) return void early.push({ msg });
    const reply = waiter.onMessage(msg, Date.now());
    if (reply) {
      replies.push(reply);
      opts.onReply?.(reply);
    }
    schedule();
  };
  const onRun = (run: RunRecord) => {
    if (!waiter) return void early.push({ run });
    if (
      run.group === group.folder &&
      run.status === 'error' &&
      !waiter.replied &&
      (run.seqEnd ?? 0) >= postedSeq
    ) {
      note(`run ${run.id} failed: ${run.error ?? 'no reason given'} (still waiting)`);
    }
    waiter.onRun(run, Date.now());
    schedule();
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
    const { seq } = await client.postMessage(chat, text);
    postedSeq = seq;
    waiter = new ReplyWaiter({ postedSeq: seq, group: group.folder });
    for (const e of early.splice(0)) {
      if (e.msg) onMessage(e.msg);
      else if (e.run) onRun(e.run);
    }
    await live.catchUp(seq);
    schedule();
    await done;
    if (!waiter.isDone(Date.now()) && !replies.length) {
      throw new Error(
        `no reply within ${Math.round(timeoutMs / 1000)} s (the run may still be going: clawpod runs list)`,
      );
    }
    return { seq, replies };
  } finally {
    clearTimeout(deadline);
    clearTimeout(timer);
    live.stop();
  }
}

/** `clawpod send <chat> <text> [--no-wait] [--timeout <s>]`: replies go to stdout, notes to stderr. */
export function registerSend(program: Command): void {
  program
    .command('send <chat> <text>')
    .description('send a message as the owner and print the reply when it comes')
    .option('--no-wait', 'return as soon as the message is stored')
    .option('--timeout <seconds>', 'how long to wait for a reply', secondsOption, 300)
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
      if (result.skipped) console.error(`clawpod: sent (seq ${result.seq}), but ${result.skipped}`);
    });
}
