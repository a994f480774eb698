import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../store/messages.js';
import { escapeXml, formatLocalTime, formatPrompt } from './prompt.js';
import { cleanReply } from './reply.js';

const opts = { timezone: 'UTC', maxMessages: 50 };

function msg(seq: number, over: Partial<StoredMessage> = {}): StoredMessage {
  return {
    seq,
    chatId: 'tg:100',
    platformId: `p${seq}`,
    direction: 'in',
    sender: 'tg:user1',
    senderName: 'Alice',
    text: `message number ${seq}`,
    ts: Date.UTC(2026, 0, 15, 12, 0),
    replyTo: null,
    isBot: false,
    mentioned: false,
    wakes: true,
    standalone: false,
    ...over,
  };
}

const messageLines = (prompt: string) =>
  prompt.split('\n').filter((l) => l.startsWith('<message '));

describe('formatPrompt', () => {
  it('wraps messages in an XML envelope with id, chat, sender, sender id and time', () => {
    const out = formatPrompt([msg(1, { text: 'hello' })], opts);
    const lines = out.split('\n');
    expect(lines[0]).toBe('<messages>');
    expect(lines.at(-1)).toBe('</messages>');
    expect(lines[1]).toBe(
      '<message id="p1" chat="tg:100" sender="Alice" sender_id="tg:user1" time="2026-01-15 12:00 UTC">hello</message>',
    );
  });

  it('shows each sender role from its stable id, so a display name cannot pose as the owner', () => {
    const out = formatPrompt(
      [
        msg(1, { sender: 'tg:4242', senderName: 'Alice' }),
        msg(2, { sender: 'tg:666', senderName: 'Owner' }),
      ],
      { ...opts, roleOf: (s) => (s === 'tg:4242' ? 'owner' : 'member') },
    );
    expect(out).toContain('sender="Alice" sender_id="tg:4242" role="owner"');
    expect(out).toContain('sender="Owner" sender_id="tg:666" role="member"');
  });

  it('falls back to the sender id when there is no display name', () => {
    const out = formatPrompt([msg(1, { senderName: null, sender: 'tg:42' })], opts);
    expect(out).toContain('sender="tg:42"');
  });

  it('shows the time in the given zone (Europe/Berlin, winter and summer)', () => {
    const winter = formatPrompt([msg(1, { ts: Date.UTC(2026, 0, 15, 12, 5) })], {
      ...opts,
      timezone: 'Europe/Berlin',
    });
    expect(winter).toMatch(/time="2026-01-15 13:05 [^"]*"/);
    // 22:05 UTC in July is 00:05 the next day in Berlin (UTC+2).
    const summer = formatPrompt([msg(1, { ts: Date.UTC(2026, 6, 15, 22, 5) })], {
      ...opts,
      timezone: 'Europe/Berlin',
    });
    expect(summer).toMatch(/time="2026-07-16 00:05 [^"]*"/);
  });

  it('formats midnight as 00, not 24', () => {
    expect(formatLocalTime(Date.UTC(2026, 2, 1, 0, 0), 'UTC')).toMatch(/^2026-03-01 00:00/);
  });

  it('adds reply_to only for replies', () => {
    const out = formatPrompt([msg(1), msg(2, { replyTo: 'p1' })], opts);
    const [first, second] = messageLines(out);
    expect(first).not.toContain('reply_to');
    expect(second).toContain('reply_to="p1"');
  });

  it('escapes text and attributes', () => {
    const nasty = `<script>&"'`;
    const out = formatPrompt(
      [msg(1, { text: nasty, senderName: nasty, platformId: `id"><x`, replyTo: `r&"` })],
      opts,
    );
    const line = messageLines(out)[0]!;
    expect(line).toContain('>&lt;script&gt;&amp;&quot;&apos;</message>');
    expect(line).toContain('sender="&lt;script&gt;&amp;&quot;&apos;"');
    expect(line).toContain('id="id&quot;&gt;&lt;x"');
    expect(line).toContain('reply_to="r&amp;&quot;"');
    expect(out).not.toContain('<script>');
    expect(out).not.toContain('<x');
    // Exactly one opening and one closing message tag: no injected markup.
    expect(out.match(/<message /g)).toHaveLength(1);
    expect(out.match(/<\/message>/g)).toHaveLength(1);
  });

  it('escapes every XML special character', () => {
    expect(escapeXml(`a<b>c&d"e'f`)).toBe('a&lt;b&gt;c&amp;d&quot;e&apos;f');
    expect(escapeXml('&amp;')).toBe('&amp;amp;');
  });

  it('keeps the newest messages within the cap and counts the rest in a note', () => {
    const batch = Array.from({ length: 60 }, (_, i) => msg(i + 1));
    const out = formatPrompt(batch, { ...opts, maxMessages: 50 });
    expect(out).toContain('<note>10 earlier messages not shown</note>');
    const lines = messageLines(out);
    expect(lines).toHaveLength(50);
    expect(lines[0]).toContain('id="p11"');
    expect(lines.at(-1)).toContain('id="p60"');
    expect(out).not.toContain('id="p10"');
    // The note comes before the messages it refers to.
    expect(out.indexOf('<note>')).toBeLessThan(out.indexOf('<message '));
  });

  it('adds no note when the batch fits', () => {
    const out = formatPrompt(
      Array.from({ length: 50 }, (_, i) => msg(i + 1)),
      { ...opts, maxMessages: 50 },
    );
    expect(out).not.toContain('<note>');
    expect(messageLines(out)).toHaveLength(50);
  });

  it('keeps the messages in the order given', () => {
    const out = formatPrompt([msg(3), msg(7), msg(9)], opts);
    expect(messageLines(out).map((l) => /id="(\w+)"/.exec(l)![1])).toEqual(['p3', 'p7', 'p9']);
  });
});

describe('cleanReply', () => {
  it('strips an internal block and trims', () => {
    expect(cleanReply('<internal>thinking</internal>\nHello!')).toBe('Hello!');
  });

  it('strips multi-line blocks', () => {
    expect(cleanReply('Hi\n<internal>\nline 1\nline 2\n</internal>\nthere')).toBe('Hi\n\nthere');
  });

  it('strips several blocks and keeps the text between them', () => {
    expect(
      cleanReply('<internal>a</internal>one <internal>b\nc</internal>two<internal>d</internal>'),
    ).toBe('one two');
  });

  it('strips an unterminated block to the end', () => {
    expect(cleanReply('Answer: 42\n<internal>I was going to say')).toBe('Answer: 42');
  });

  it('is case-insensitive about the tag', () => {
    expect(cleanReply('<INTERNAL>x</Internal>ok')).toBe('ok');
  });

  it("returns '' when there is only internal text", () => {
    expect(cleanReply('<internal>only me</internal>')).toBe('');
    expect(cleanReply('  <internal>a</internal>\n<internal>b</internal>  ')).toBe('');
    expect(cleanReply('<internal>never closed')).toBe('');
  });

  it('leaves a reply without internal blocks as it is (trimmed)', () => {
    expect(cleanReply('  plain <b>text</b>  ')).toBe('plain <b>text</b>');
  });
});
