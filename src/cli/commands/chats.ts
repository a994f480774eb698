import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { ChatInfo } from '../../store/chats.js';
import { formatAgo, json, oneLine, table } from '../format.js';
import { withLocalStore } from '../local.js';

/** The table of `clawpod chats list`, with a hint for binding when an unbound chat is shown. */
export function renderChats(chats: ChatInfo[], now = Date.now()): string {
  if (!chats.length) return 'no chats yet: a chat appears here once a message arrives on a channel';
  const out = [
    table(
      ['CHAT', 'CHANNEL', 'NAME', 'GROUP', 'LAST', 'LAST MESSAGE'],
      chats.map((c) => {
        const m = c.lastMessage;
        const who = !m ? '' : m.direction === 'out' ? 'assistant' : m.sender;
        return [
          c.jid,
          c.channel,
          oneLine(c.name ?? '-', 24),
          c.group ?? '(unbound)',
          formatAgo(m?.ts ?? c.lastSeen, now),
          m ? `${who}: ${oneLine(m.text, 50)}` : '-',
        ];
      }),
    ),
  ];
  const unbound = chats.find((c) => !c.group);
  if (unbound)
    out.push(
      '',
      `unbound chats are stored but answer nobody: clawpod groups bind <group> ${unbound.jid}`,
    );
  return out.join('\n');
}

/** `clawpod chats list`: every chat seen on any channel, bound or not, newest first. */
export function registerChats(program: Command): void {
  const chats = program
    .command('chats')
    .description('chats seen on every channel, bound to a group or not');
  chats
    .command('list', { isDefault: true })
    .description('bound and unbound chats with their channel, group and last message')
    .option('--unbound', 'only chats bound to no group')
    .option('--json', 'print as JSON')
    .action(async (opts: { unbound?: boolean; json?: boolean }) => {
      const config = loadConfig();
      // Bound chats with no message yet are in the list too (the store's one chat query).
      const all = await withLocalStore(config, { create: false }, (s) => s.chats.list());
      const list = opts.unbound ? all.filter((c) => !c.group) : all;
      console.log(opts.json ? json(list) : renderChats(list));
    });
}
