import { describe, expect, it } from 'vitest';
import type { Inbound } from '../channels/channel.js';
import { newChatNotice, tellsOwnerOfNewChat } from './new-chat-notice.js';

const msg = (over: Partial<Inbound>): Inbound => ({
  chatId: 'tg:-100',
  platformId: '1',
  sender: 'tg:7',
  text: 'hello',
  ts: 1,
  ...over,
});

describe('tellsOwnerOfNewChat', () => {
  it('tells of a direct chat and of a group that mentions the bot', () => {
    expect(tellsOwnerOfNewChat(msg({ chatKind: 'direct' }))).toBe(true);
    expect(tellsOwnerOfNewChat(msg({ chatKind: 'group', mentioned: true }))).toBe(true);
  });

  it('stays quiet for group chatter, the bot itself, automatic messages and mail', () => {
    expect(tellsOwnerOfNewChat(msg({ chatKind: 'group' }))).toBe(false);
    expect(tellsOwnerOfNewChat(msg({ chatKind: 'direct', isBot: true }))).toBe(false);
    expect(tellsOwnerOfNewChat(msg({ chatKind: 'direct', automatic: 'auto-reply' }))).toBe(false);
    expect(tellsOwnerOfNewChat(msg({ chatId: 'mail:a@b.c', chatKind: 'direct' }))).toBe(false);
  });
});

describe('newChatNotice', () => {
  it('names the chat and sender, quotes the message on one line, cut at 120 characters', () => {
    const text = newChatNotice(
      msg({ chatName: 'Book club', text: `first line\n\nsecond ${'x'.repeat(200)}` }),
    );
    const head = text.split('\n')[0]!;
    expect(head).toMatch(
      /^💬 A new chat wrote to the bot: tg:-100 "Book club" — tg:7: "first line second x+…"$/,
    );
    expect(head.length).toBeLessThan(200);
    expect(text).toContain('clawpod groups bind <group> tg:-100');
    expect(text).toContain('clawpod groups add <name> --chat tg:-100');
  });
});
