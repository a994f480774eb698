import { describe, expect, it } from 'vitest';
import { parseSlackChatId, slackChatId, tsToMillis } from './ids.js';
import {
  slackTextToPlain,
  toInbound,
  type InboundContext,
  type InboundLookups,
  type SlackFile,
} from './inbound.js';

const names: Record<string, string> = { U1: 'Alice', U2: 'Bob' };
function context(over: Partial<InboundLookups> = {}, maxBytes = 1000): InboundContext {
  const lookups: InboundLookups = {
    userName: async (id) => names[id] ?? null,
    chat: async (c) =>
      c.startsWith('D')
        ? { name: 'DM with Alice', kind: 'direct' }
        : { name: '#general', kind: 'group' },
    threadParent: async () => ({
      user: 'U2',
      text: 'Parent message about <https://x.io|the plan>',
    }),
    download: async (f: SlackFile) => Buffer.from(`bytes of ${f.name}`),
    ...over,
  };
  return {
    identity: { botUserId: 'UBOT', botId: 'BBOT' },
    assistantName: 'Andy',
    maxBytes,
    lookups,
  };
}
const msg = (extra: Record<string, unknown> = {}) => ({
  type: 'message',
  channel: 'C1',
  channel_type: 'channel',
  user: 'U1',
  text: 'hello',
  ts: '1712345678.000100',
  ...extra,
});

describe('chat ids', () => {
  it('round-trips channels and threads', () => {
    expect(slackChatId('C1')).toBe('slack:C1');
    expect(slackChatId('C1', '1712345678.000100')).toBe('slack:C1/1712345678.000100');
    expect(parseSlackChatId('slack:C1/1712345678.000100')).toEqual({
      channel: 'C1',
      threadTs: '1712345678.000100',
    });
    expect(parseSlackChatId('slack:C1')).toEqual({ channel: 'C1' });
    expect(parseSlackChatId('tg:1')).toBeUndefined();
    expect(parseSlackChatId('slack:C1/../x')).toBeUndefined();
    expect(tsToMillis('1712345678.000100')).toBe(1712345678000);
  });
});

describe('slackTextToPlain', () => {
  const opts = { botUserId: 'UBOT', assistantName: 'Andy', names: new Map([['U1', 'Alice']]) };
  it('renders mentions, channels, links and entities readably', () => {
    expect(
      slackTextToPlain(
        '<@UBOT> ask <@U1> and <@U9|carol> in <#C2|dev> or <#C3>: <https://x.io|site>, <https://y.io>, <mailto:a@b.c|a@b.c> &lt;3 &amp; <!here> <!subteam^S1|@ops>',
        opts,
      ),
    ).toBe(
      '@Andy ask @Alice and @carol in #dev or #C3: site (https://x.io), https://y.io, a@b.c <3 & @here @ops',
    );
  });
});

describe('toInbound', () => {
  it('maps a channel message with chat metadata; the trigger word is left to the router', async () => {
    const r = await toInbound(msg(), context());
    expect(r).toEqual({
      kind: 'inbound',
      inbound: {
        chatId: 'slack:C1',
        platformId: '1712345678.000100',
        sender: 'slack:U1',
        senderName: 'Alice',
        text: 'hello',
        ts: 1712345678000,
        replyTo: null,
        isBot: false,
        mentioned: false,
        chatName: '#general',
        chatKind: 'group',
      },
    });
  });

  it('a native mention or an app_mention event counts as mentioned; the mention reads @Andy', async () => {
    const a = await toInbound(msg({ text: '<@UBOT> status?' }), context());
    expect(a.kind === 'inbound' && [a.inbound.mentioned, a.inbound.text]).toEqual([
      true,
      '@Andy status?',
    ]);
    const b = await toInbound(
      msg({ type: 'app_mention', channel_type: undefined, text: 'hey <@UBOT|andy>' }),
      context(),
    );
    expect(b.kind === 'inbound' && b.inbound.mentioned).toBe(true);
  });

  it('a direct message addresses the bot', async () => {
    const r = await toInbound(msg({ channel: 'D1', channel_type: 'im' }), context());
    expect(r.kind === 'inbound' && r.inbound).toMatchObject({
      chatId: 'slack:D1',
      chatKind: 'direct',
      chatName: 'DM with Alice',
      mentioned: true,
    });
  });

  it('a thread reply arrives on the thread chat, replying to the parent with a short quote', async () => {
    const r = await toInbound(
      msg({ thread_ts: '1712345600.000001', text: '@Andy agreed?' }),
      context(),
    );
    expect(r.kind === 'inbound' && r.inbound).toMatchObject({
      chatId: 'slack:C1/1712345600.000001',
      replyTo: '1712345600.000001',
      chatName: '#general › thread',
      text: '@Andy agreed?\n> in thread of Bob: "Parent message about the plan (https://x.io)"',
    });
    const parentItself = await toInbound(msg({ thread_ts: '1712345678.000100' }), context());
    expect(parentItself.kind === 'inbound' && parentItself.inbound.chatId).toBe('slack:C1');
  });

  it('ignores its own messages, edits, deletions and system messages; keeps other bots as isBot', async () => {
    const reason = async (extra: Record<string, unknown>) => {
      const r = await toInbound(msg(extra), context());
      return r.kind === 'ignored' ? r.reason : 'stored';
    };
    expect(await reason({ user: 'UBOT' })).toMatch(/own/);
    expect(await reason({ user: undefined, bot_id: 'BBOT', subtype: 'bot_message' })).toMatch(
      /own/,
    );
    expect(await reason({ subtype: 'message_changed' })).toMatch(/edit/);
    expect(await reason({ subtype: 'message_deleted' })).toMatch(/message_deleted/);
    expect(await reason({ subtype: 'channel_join' })).toMatch(/channel_join/);
    expect(await reason({ channel: '../etc' })).toMatch(/not a message/);
    const other = await toInbound(
      msg({
        user: undefined,
        bot_id: 'B2',
        subtype: 'bot_message',
        username: 'CI',
        text: '<@UBOT> build ok',
      }),
      context(),
    );
    expect(other.kind === 'inbound' && other.inbound).toMatchObject({
      isBot: true,
      mentioned: false,
      sender: 'slack:B2',
      senderName: 'CI',
    });
  });

  it('downloads files within the cap and notes the rest', async () => {
    const file = (name: string, size: number, mode = 'hosted'): SlackFile => ({
      id: `F-${name}`,
      name,
      mimetype: 'image/png',
      size,
      mode,
      url_private_download: `https://files.slack.com/${name}`,
    });
    const r = await toInbound(
      msg({
        subtype: 'file_share',
        text: 'see',
        files: [
          file('a.png', 10),
          file('big.png', 5000),
          file('gone.png', 1, 'tombstone'),
          file('bad.png', 1),
        ],
      }),
      context({
        download: async (f) => {
          if (f.name === 'bad.png') throw new Error('download failed with HTTP 403');
          return Buffer.from('png');
        },
      }),
    );
    expect(r.kind).toBe('inbound');
    if (r.kind !== 'inbound') return;
    expect(r.inbound.attachments).toEqual([
      { name: 'a.png', mime: 'image/png', data: Buffer.from('png') },
    ]);
    expect(r.inbound.text.split('\n')).toEqual([
      'see',
      '[attachment not downloaded: big.png (image/png, 5000 bytes, over the 1000-byte limit)]',
      '[attachment not available: gone.png]',
      '[attachment not downloaded: bad.png (download failed with HTTP 403)]',
    ]);
  });

  it('still maps a message when look-ups fail', async () => {
    const fail = async () => {
      throw new Error('ratelimited');
    };
    const r = await toInbound(
      msg({ channel: 'D7', channel_type: undefined, thread_ts: '1.2' }),
      context({ userName: fail, chat: fail, threadParent: fail }),
    );
    expect(r.kind === 'inbound' && r.inbound).toMatchObject({
      senderName: 'U1',
      chatName: null,
      chatKind: 'direct',
      text: 'hello',
    });
  });
});
