import { describe, expect, it } from 'vitest';
import type { WAMessage } from '@whiskeysockets/baileys';
import { bareJid, mapMessage, parseChatId, type WaIdentity } from './inbound.js';

const me: WaIdentity = {
  jid: '4915100000001@s.whatsapp.net',
  lid: '99887766@lid',
  selfPrefix: null,
};
const GROUP = '120363000000000001@g.us';
const ALICE = '4917000000002@s.whatsapp.net';
const msg = (m: Partial<WAMessage> & { key: WAMessage['key'] }) =>
  ({ messageTimestamp: 1_700_000_000, ...m }) as WAMessage;

describe('WhatsApp inbound mapping', () => {
  it('jids: device suffix dropped, chat ids parsed', () => {
    expect(bareJid('4915100000001:12@s.whatsapp.net')).toBe('4915100000001@s.whatsapp.net');
    expect(parseChatId(`wa:${GROUP}`)).toBe(GROUP);
    expect(parseChatId('tg:1')).toBeUndefined();
    expect(parseChatId('wa:no jid')).toBeUndefined();
  });

  it('a group message: sender is the participant, untriggered without a mention', () => {
    const out = mapMessage(
      msg({
        key: { remoteJid: GROUP, id: 'A1', participant: '4917000000002:3@s.whatsapp.net' },
        pushName: 'Alice',
        message: { conversation: 'hi all' },
      }),
      me,
    )!;
    expect(out.inbound).toMatchObject({
      chatId: `wa:${GROUP}`,
      platformId: 'A1',
      sender: `wa:${ALICE}`,
      senderName: 'Alice',
      text: 'hi all',
      ts: 1_700_000_000_000,
      mentioned: false,
      isBot: false,
      chatKind: 'group',
    });
  });

  it('a mention of the bot (by jid or lid) is the trigger; a DM always is', () => {
    const mention = (jid: string) =>
      mapMessage(
        msg({
          key: { remoteJid: GROUP, id: 'A2', participant: ALICE },
          message: {
            extendedTextMessage: {
              text: '@4915100000001 hi',
              contextInfo: { mentionedJid: [jid] },
            },
          },
        }),
        me,
      )!.inbound.mentioned;
    expect(mention('4915100000001@s.whatsapp.net')).toBe(true);
    expect(mention('99887766@lid')).toBe(true);
    expect(mention('4917000000009@s.whatsapp.net')).toBe(false);
    const dm = mapMessage(
      msg({ key: { remoteJid: ALICE, id: 'D1' }, message: { conversation: 'yo' } }),
      me,
    )!;
    expect(dm.inbound).toMatchObject({
      mentioned: true,
      chatKind: 'direct',
      sender: `wa:${ALICE}`,
    });
  });

  it('a quoted reply carries a quote line and replyTo = stanzaId', () => {
    const out = mapMessage(
      msg({
        key: { remoteJid: GROUP, id: 'A3', participant: ALICE },
        message: {
          extendedTextMessage: {
            text: 'and this?',
            contextInfo: {
              stanzaId: 'Q1',
              participant: '4917000000005@s.whatsapp.net',
              quotedMessage: { conversation: 'the original\nline' },
            },
          },
        },
      }),
      me,
    )!;
    expect(out.inbound.text).toBe('and this?\n> 4917000000005: the original line');
    expect(out.inbound.replyTo).toBe('Q1');
  });

  it('media: image, document, voice note; wrappers unwrapped; protocol messages skipped', () => {
    const img = mapMessage(
      msg({
        key: { remoteJid: ALICE, id: 'M1' },
        message: {
          ephemeralMessage: {
            message: { imageMessage: { caption: 'look', mimetype: 'image/png' } },
          },
        },
      }),
      me,
    )!;
    expect(img.inbound.text).toBe('look');
    expect(img.media).toEqual({ kind: 'image', name: 'image.png', mime: 'image/png' });
    const doc = mapMessage(
      msg({
        key: { remoteJid: ALICE, id: 'M2' },
        message: { documentMessage: { fileName: 'r.pdf', mimetype: 'application/pdf' } },
      }),
      me,
    )!;
    expect(doc.media).toMatchObject({ kind: 'document', name: 'r.pdf' });
    const voice = mapMessage(
      msg({
        key: { remoteJid: ALICE, id: 'M3' },
        message: { audioMessage: { ptt: true, mimetype: 'audio/ogg; codecs=opus' } },
      }),
      me,
    )!;
    expect(voice.media).toMatchObject({ kind: 'audio', name: 'voice.ogg' });
    expect(
      mapMessage(msg({ key: { remoteJid: ALICE, id: 'P' }, message: { protocolMessage: {} } }), me),
    ).toBeNull();
    expect(
      mapMessage(
        msg({ key: { remoteJid: 'status@broadcast', id: 'S' }, message: { conversation: 'x' } }),
        me,
      ),
    ).toBeNull();
  });
});
