import type { Chat, Message } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import { chatIdOf, mapMessage, mentionsBot, parseChatId } from './inbound.js';

const me = { id: 999, username: 'claw_bot' };
const group: Chat = { id: -1001234567890, type: 'supergroup', title: 'Team' };
const dm: Chat = { id: 4242, type: 'private', first_name: 'Alice', last_name: 'Smith' };
const alice = { id: 4242, is_bot: false, first_name: 'Alice', last_name: 'Smith' };
const bob = { id: 77, is_bot: false, first_name: 'Bob', username: 'bobby' };

function msg(extra: Partial<Message> & { chat?: Chat }): Message {
  return { message_id: 10, date: 1_700_000_000, chat: group, from: alice, ...extra } as Message;
}
function mapped(m: Message) {
  const r = mapMessage(m, me);
  if (r.kind !== 'message') throw new Error(`skipped: ${r.reason}`);
  return r;
}

describe('Telegram message → Inbound', () => {
  it('maps a group text message with chat metadata', () => {
    const { inbound, files } = mapped(msg({ text: 'hello all' }));
    expect(inbound).toMatchObject({
      chatId: 'tg:-1001234567890',
      platformId: '10',
      sender: 'tg:4242',
      senderName: 'Alice Smith',
      text: 'hello all',
      ts: 1_700_000_000_000,
      replyTo: null,
      mentioned: false,
      chatName: 'Team',
      chatKind: 'group',
    });
    expect(files).toEqual([]);
  });

  it('a direct message always addresses the bot', () => {
    const { inbound } = mapped(msg({ chat: dm, text: 'hi' }));
    expect(inbound).toMatchObject({
      chatId: 'tg:4242',
      mentioned: true,
      chatKind: 'direct',
      chatName: 'Alice Smith',
    });
  });

  it('recognises native mentions of the bot only', () => {
    const at = (text: string, entities: Message['entities'] = []) =>
      mapped(msg({ text, entities })).inbound.mentioned;
    expect(at('@claw_bot hi', [{ type: 'mention', offset: 0, length: 9 }])).toBe(true);
    expect(at('hey @Claw_Bot, status?', [{ type: 'mention', offset: 4, length: 9 }])).toBe(true);
    expect(at('hey @other_bot', [{ type: 'mention', offset: 4, length: 10 }])).toBe(false);
    expect(at('/status@claw_bot', [{ type: 'bot_command', offset: 0, length: 16 }])).toBe(true);
    expect(at('/status', [{ type: 'bot_command', offset: 0, length: 7 }])).toBe(false);
    expect(
      at('hi you', [
        {
          type: 'text_mention',
          offset: 3,
          length: 3,
          user: { id: 999, is_bot: true, first_name: 'C' },
        },
      ]),
    ).toBe(true);
    // Without entities (as some clients or forwarded texts send it): the leading @name still counts.
    expect(mentionsBot('@claw_bot do it', [], me)).toBe(true);
    expect(mentionsBot('@claw_botty do it', [], me)).toBe(false);
    // UTF-16 offsets, as Telegram sends them.
    expect(at('😀 @claw_bot', [{ type: 'mention', offset: 3, length: 9 }])).toBe(true);
  });

  it('a reply carries the reply-to id and one quote line after the text; a reply to the bot is a mention', () => {
    const original = msg({ message_id: 5, from: bob, text: 'the build is\nbroken again' });
    const { inbound } = mapped(msg({ text: '@Andy why?', reply_to_message: original as never }));
    expect(inbound.replyTo).toBe('5');
    expect(inbound.text).toBe('@Andy why?\n> Bob: the build is broken again');
    expect(inbound.mentioned).toBe(false);
    const toBot = msg({
      message_id: 6,
      from: { id: 999, is_bot: true, first_name: 'Claw' },
      text: 'x'.repeat(300),
    });
    const r = mapped(msg({ text: 'thanks', reply_to_message: toBot as never }));
    expect(r.inbound.mentioned).toBe(true);
    expect(r.inbound.text.split('\n')[1]!.length).toBeLessThan(220);
    // A partial quote (Bot API `quote`) wins over the whole message.
    const q = mapped(
      msg({
        text: 'this',
        reply_to_message: original as never,
        quote: { text: 'broken', position: 0 } as never,
      }),
    );
    expect(q.inbound.text).toBe('this\n> Bob: broken');
  });

  it('forum topics are their own chats; the topic header is not a reply', () => {
    const created = msg({
      message_id: 77,
      forum_topic_created: { name: 'ops', icon_color: 1 },
    } as never);
    const m = msg({
      text: 'in topic',
      message_thread_id: 77,
      is_topic_message: true,
      reply_to_message: created as never,
    });
    const { inbound } = mapped(m);
    expect(inbound.chatId).toBe('tg:-1001234567890/77');
    expect(inbound.replyTo).toBeNull();
    expect(inbound.text).toBe('in topic');
    expect(parseChatId('tg:-1001234567890/77')).toEqual({ chatId: -1001234567890, threadId: 77 });
    expect(parseChatId('tg:4242')).toEqual({ chatId: 4242 });
    expect(parseChatId('slack:C1')).toBeUndefined();
    expect(parseChatId('tg:abc')).toBeUndefined();
    // A reply thread in a non-forum supergroup has a thread id but is not a topic.
    expect(chatIdOf({ chat: group, message_thread_id: 5 })).toBe('tg:-1001234567890');
  });

  it('skips the bot own messages and service messages; marks other bots', () => {
    expect(
      mapMessage(msg({ from: { id: 999, is_bot: true, first_name: 'C' }, text: 'mine' }), me),
    ).toMatchObject({ kind: 'skip' });
    expect(mapMessage(msg({ new_chat_members: [bob] } as never), me)).toMatchObject({
      kind: 'skip',
    });
    expect(mapMessage(msg({ migrate_to_chat_id: -100999 } as never), me)).toMatchObject({
      kind: 'skip',
    });
    const other = mapped(msg({ from: { id: 5, is_bot: true, first_name: 'Other' }, text: 'beep' }));
    expect(other.inbound.isBot).toBe(true);
  });

  it('anonymous admins and channels speak as their chat', () => {
    const { inbound } = mapped(
      msg({
        from: { id: 1087968824, is_bot: true, first_name: 'Group' },
        sender_chat: group,
        text: 'admin says',
      }),
    );
    expect(inbound).toMatchObject({ sender: 'tg:-1001234567890', senderName: 'Team' });
    expect(inbound.isBot).toBeUndefined();
  });

  it('lists files: the largest photo size, documents, voice notes; describes what is not a file', () => {
    const photo = mapped(
      msg({
        caption: 'look',
        photo: [
          { file_id: 'small', file_unique_id: 's', width: 90, height: 90, file_size: 100 },
          { file_id: 'big', file_unique_id: 'b', width: 1280, height: 1280, file_size: 90_000 },
        ],
      }),
    );
    expect(photo.inbound.text).toBe('look');
    expect(photo.files).toEqual([
      { fileId: 'big', name: 'photo-10.jpg', mime: 'image/jpeg', size: 90_000 },
    ]);
    const doc = mapped(
      msg({
        document: {
          file_id: 'd',
          file_unique_id: 'd',
          file_name: 'report.pdf',
          mime_type: 'application/pdf',
          file_size: 5,
        },
      }),
    );
    expect(doc.files[0]).toMatchObject({
      fileId: 'd',
      name: 'report.pdf',
      mime: 'application/pdf',
    });
    expect(doc.inbound.text).toBe('');
    const voice = mapped(
      msg({
        chat: dm,
        voice: { file_id: 'v', file_unique_id: 'v', duration: 3, mime_type: 'audio/ogg' },
      }),
    );
    expect(voice.files[0]).toMatchObject({ fileId: 'v', name: 'voice-10.ogg', mime: 'audio/ogg' });
    const sticker = mapped(msg({ sticker: { file_id: 'st', emoji: '👍' } as never }));
    expect(sticker.inbound.text).toBe('[sticker 👍]');
    expect(sticker.files).toEqual([]);
    const fwd = mapped(
      msg({ text: 'fyi', forward_origin: { type: 'user', date: 1, sender_user: bob } }),
    );
    expect(fwd.inbound.text).toBe('fyi\n[forwarded from Bob]');
  });
});
