import { describe, expect, it } from 'vitest';
import { toInbound, type DiscordMessageView } from './inbound.js';

const bot = { id: '900', name: 'Andy' };
const view = (over: Partial<DiscordMessageView> = {}): DiscordMessageView => ({
  id: '111',
  channelId: '222',
  content: 'hello',
  createdAt: 1_700_000_000_000,
  author: { id: '333', name: 'Alice', bot: false },
  webhook: false,
  system: false,
  place: { kind: 'guild', name: 'general', parentId: null, parentName: null, guildName: 'Lab' },
  mentionedUsers: [],
  mentionedRoles: [],
  mentionedChannels: [],
  reply: null,
  forwarded: null,
  attachments: [],
  stickers: [],
  ...over,
});

describe('toInbound', () => {
  it('maps a server message with chat metadata, not addressed to the bot', () => {
    expect(toInbound(view(), bot)).toEqual({
      inbound: {
        chatId: 'discord:222',
        platformId: '111',
        sender: 'discord:333',
        senderName: 'Alice',
        text: 'hello',
        ts: 1_700_000_000_000,
        replyTo: null,
        isBot: false,
        mentioned: false,
        chatName: 'Lab #general',
        chatKind: 'group',
      },
      attachments: [],
    });
  });

  it('a native mention of the bot counts, and mentions read as names', () => {
    const m = toInbound(
      view({
        content: '<@900> ask <@!444> in <#555> for <@&666> <:party:777>',
        mentionedUsers: [
          { id: '900', name: 'Andy' },
          { id: '444', name: 'Bob' },
        ],
        mentionedChannels: [{ id: '555', name: 'ops' }],
        mentionedRoles: [{ id: '666', name: 'admins' }],
      }),
      bot,
    )!;
    expect(m.inbound.mentioned).toBe(true);
    expect(m.inbound.text).toBe('@Andy ask @Bob in #ops for @admins :party:');
  });

  it('the bot id in the content counts even when Discord did not list it', () => {
    expect(toInbound(view({ content: 'hey <@900>' }), bot)!.inbound.mentioned).toBe(true);
    expect(toInbound(view({ content: 'hey <@9001>' }), bot)!.inbound.mentioned).toBe(false);
  });

  it('a reply carries the replied-to id and ends with a one-line quote; a reply to the bot addresses it', () => {
    const long = 'word '.repeat(100);
    const m = toInbound(
      view({
        content: 'and then?',
        reply: { messageId: '100', authorId: '900', authorName: 'Andy', content: `first\n${long}` },
      }),
      bot,
    )!;
    expect(m.inbound.replyTo).toBe('100');
    expect(m.inbound.mentioned).toBe(true);
    const [text, quote] = m.inbound.text.split('\n');
    expect(quote).toMatch(/^> Andy: first word word/);
    expect(quote!.length).toBeLessThanOrEqual(2 + 'Andy: '.length + 200);
    expect(quote!.endsWith('…')).toBe(true);
    expect(text).toBe('and then?');
  });

  it('a reply whose original is unknown keeps the id without a quote', () => {
    const m = toInbound(
      view({ reply: { messageId: '100', authorId: '333', authorName: null, content: null } }),
      bot,
    )!;
    expect(m.inbound).toMatchObject({ replyTo: '100', text: 'hello', mentioned: false });
  });

  it('a DM is direct and always addresses the bot', () => {
    const m = toInbound(
      view({
        place: { kind: 'dm', name: null, parentId: null, parentName: null, guildName: null },
      }),
      bot,
    )!;
    expect(m.inbound).toMatchObject({
      chatKind: 'direct',
      chatName: 'DM with Alice',
      mentioned: true,
    });
  });

  it('a thread is a chat under its parent channel, named after both', () => {
    const m = toInbound(
      view({
        channelId: '777',
        place: {
          kind: 'thread',
          name: 'plans',
          parentId: '222',
          parentName: 'general',
          guildName: 'Lab',
        },
      }),
      bot,
    )!;
    expect(m.inbound.chatId).toBe('discord:222/777');
    expect(m.inbound.chatName).toBe('Lab #general › plans');
  });

  it("ignores the bot's own messages and system messages", () => {
    expect(toInbound(view({ author: { id: '900', name: 'Andy', bot: true } }), bot)).toBeNull();
    expect(toInbound(view({ system: true, content: '' }), bot)).toBeNull();
  });

  it('other bots and webhooks pass as bots, never addressing ours', () => {
    const other = toInbound(
      view({ author: { id: '444', name: 'Helper', bot: true }, content: '<@900> ping' }),
      bot,
    )!;
    expect(other.inbound).toMatchObject({ isBot: true, mentioned: false });
    expect(toInbound(view({ webhook: true }), bot)!.inbound.isBot).toBe(true);
  });

  it('adds forwarded text and stickers, and hands attachments on to be fetched', () => {
    const file = { name: 'a.png', contentType: 'image/png', size: 3, url: 'https://cdn/a.png' };
    const m = toInbound(
      view({ content: '', forwarded: 'from elsewhere', stickers: ['wave'], attachments: [file] }),
      bot,
    )!;
    expect(m.inbound.text).toBe('[sticker: wave]\n> [forwarded] from elsewhere');
    expect(m.attachments).toEqual([file]);
  });
});
