import type { Command } from 'commander';
import { createInterface, type Interface } from 'node:readline';
import { loadConfig } from '../../config/load.js';
import { chatIdSchema } from '../../store/group-schema.js';
import { ApiClient, type ChatMessage } from '../api-client.js';
import { LiveChat } from '../live-chat.js';
import { UsageError } from '../usage-error.js';

const HISTORY = 20;

/** One message as a terminal line: `[HH:MM] sender: text`, continuation lines indented. */
export function formatChatLine(
  m: Pick<ChatMessage, 'ts' | 'sender' | 'direction' | 'text'>,
): string {
  const d = new Date(m.ts);
  const time = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const who = m.direction === 'out' ? 'assistant' : m.sender || 'owner';
  const prefix = `[${time}] ${who}: `;
  return prefix + m.text.replace(/\n/g, `\n${' '.repeat(prefix.length)}`);
}

/** All stored messages of a chat, paged; returns the last `keep` and the highest seq. */
async function history(
  client: ApiClient,
  chat: string,
  keep: number,
): Promise<{ tail: ChatMessage[]; lastSeq: number }> {
  let tail: ChatMessage[] = [];
  let after = 0;
  for (;;) {
    const page = await client.chatMessages(chat, after);
    tail = [...tail, ...page].slice(-keep);
    if (!page.length) break;
    after = page[page.length - 1]!.seq;
    if (page.length < 500) break;
  }
  return { tail, lastSeq: after };
}

/** `clawpod chat [chat]`: an interactive chat in the terminal (history, then live). */
export function registerChat(program: Command): void {
  program
    .command('chat [chat]')
    .description('interactive chat in the terminal (default web:main); /quit or Ctrl-D leaves')
    .action(async (chatArg: string | undefined) => {
      const chat = chatArg ?? 'web:main';
      if (!chatIdSchema.safeParse(chat).success)
        throw new UsageError(`"${chat}" is not a chat id (<channel>:<id>, e.g. web:main)`);
      const config = loadConfig();
      const client = ApiClient.fromConfig(config);
      await client.health();
      const group = (await client.groups()).find((g) => g.chats.includes(chat));
      const { tail, lastSeq } = await history(client, chat, HISTORY);

      const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
      // The reader is created only after the stream is live (see below).
      const view: { rl?: Interface } = {};
      const prompt = (keep = false) => {
        if (tty) view.rl?.prompt(keep);
      };
      // Print above the prompt without losing what the user is typing.
      const print = (line: string) => {
        if (tty && view.rl) process.stdout.write('\r\x1b[K');
        console.log(line);
        prompt(true);
      };

      console.log(
        `chat ${chat}${group ? ` (group ${group.folder})` : ''}, daemon ${client.baseUrl}; /quit or Ctrl-D to leave`,
      );
      if (!group)
        console.log(
          `note: no group is bound to ${chat}, so nothing will answer (clawpod groups bind <group> ${chat})`,
        );
      for (const m of tail) console.log(formatChatLine(m));

      const own = new Set<number>();
      const unconfirmed: string[] = [];
      const live = new LiveChat(client, chat, {
        onMessage: (m) => {
          if (own.has(m.seq)) return;
          const i = m.direction === 'in' ? unconfirmed.indexOf(m.text) : -1;
          if (i !== -1) {
            // Our own line coming back before the POST answered: already on screen.
            unconfirmed.splice(i, 1);
            own.add(m.seq);
            return;
          }
          print(formatChatLine(m));
        },
        onRun: (r) => {
          if (group && r.group === group.folder && r.status === 'error' && r.error)
            print(`(run failed: ${r.error})`);
        },
        onConnection: (state) =>
          print(
            state === 'lost' ? '(connection to the daemon lost; reconnecting…)' : '(reconnected)',
          ),
      });
      await live.start(lastSeq);
      // Only now start reading: stdin stays buffered until then, so no typed line is lost.
      const input = createInterface({
        input: process.stdin,
        output: process.stdout,
        prompt: '> ',
        terminal: tty,
      });
      view.rl = input;

      let posting: Promise<void> = Promise.resolve();
      let failed = false;
      input.on('line', (raw) => {
        const line = raw.trim();
        if (line === '/quit' || line === '/exit') return input.close();
        if (!line) return prompt();
        unconfirmed.push(line);
        posting = posting.then(async () => {
          try {
            const { seq } = await client.postMessage(chat, line);
            own.add(seq);
            const i = unconfirmed.indexOf(line);
            if (i !== -1) unconfirmed.splice(i, 1);
          } catch (err) {
            failed = true;
            print(`(not sent: ${err instanceof Error ? err.message : String(err)})`);
          }
        });
        prompt();
      });
      input.on('SIGINT', () => input.close());
      prompt();
      await new Promise<void>((resolve) => input.once('close', resolve));
      await posting;
      live.stop();
      if (tty) process.stdout.write('\n');
      // Failed sends were reported inline; a non-interactive run reports them in the exit code.
      if (failed && !tty) process.exitCode = 1;
    });
}
