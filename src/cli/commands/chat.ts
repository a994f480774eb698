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

const HELP = [
  'local commands (everything else goes to the agent, /compact and other agent commands included):',
  '  /help          this list',
  '  /chat <chat>   switch to another chat, e.g. /chat tg:4242',
  '  /quit, /exit   leave (Ctrl-D too)',
].join('\n');

/**
 * `clawpod chat [chat]`: an interactive chat in the terminal (history, then live). `/help`,
 * `/chat` and `/quit` are handled here; a message that wakes nothing is answered by a note
 * saying why (no trigger word, sender not allowed, chat unbound).
 */
export function registerChat(program: Command): void {
  program
    .command('chat [chat]')
    .description('interactive chat in the terminal (default web:main); /help lists local commands')
    .action(async (chatArg: string | undefined) => {
      const first = chatArg ?? 'web:main';
      if (!chatIdSchema.safeParse(first).success)
        throw new UsageError(`"${first}" is not a chat id (<channel>:<id>, e.g. web:main)`);
      const config = loadConfig();
      const client = ApiClient.fromConfig(config);
      await client.health();

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

      const own = new Set<number>();
      const unconfirmed: string[] = [];
      let chat = first;
      let live: LiveChat | undefined;
      /** Shows a chat's recent history and follows it live. */
      const open = async (next: string) => {
        live?.stop();
        chat = next;
        const group = (await client.groups()).find((g) => g.chats.includes(chat));
        const { tail, lastSeq } = await history(client, chat, HISTORY);
        print(
          `chat ${chat}${group ? ` (group ${group.folder})` : ''}, daemon ${client.baseUrl}; /help for commands`,
        );
        if (!group)
          print(
            `note: no group is bound to ${chat}, so nothing will answer (clawpod groups bind <group> ${chat})`,
          );
        for (const m of tail) print(formatChatLine(m));
        live = new LiveChat(client, chat, {
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
            if (r.chatId !== chat || !r.error) return;
            if (r.status === 'error') print(`(run failed: ${r.error}; it will be retried)`);
            if (r.status === 'dead') print(`(not answered: ${r.error})`);
          },
          onConnection: (state) =>
            print(
              state === 'lost' ? '(connection to the daemon lost; reconnecting…)' : '(reconnected)',
            ),
        });
        await live.start(lastSeq);
      };
      await open(first);
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
        if (line === '/help') return print(HELP);
        if (line === '/chat' || line.startsWith('/chat ')) {
          const next = line.slice('/chat'.length).trim();
          if (!chatIdSchema.safeParse(next).success) {
            print(`(/chat needs a chat id: <channel>:<id>, e.g. /chat web:main)`);
            return;
          }
          posting = posting
            .then(() => open(next))
            .catch((err: unknown) => {
              print(`(cannot open ${next}: ${err instanceof Error ? err.message : String(err)})`);
            });
          return;
        }
        if (!line) return prompt();
        unconfirmed.push(line);
        const to = chat;
        posting = posting.then(async () => {
          try {
            const posted = await client.postMessage(to, line);
            own.add(posted.seq);
            const i = unconfirmed.indexOf(line);
            if (i !== -1) unconfirmed.splice(i, 1);
            if (posted.wakes === false) print(`(nothing will answer: ${posted.quiet})`);
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
      live?.stop();
      if (tty) process.stdout.write('\n');
      // Failed sends were reported inline; a non-interactive run reports them in the exit code.
      if (failed && !tty) process.exitCode = 1;
    });
}
