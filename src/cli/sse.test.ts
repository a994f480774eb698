import { describe, expect, it } from 'vitest';
import { parseMessageEvent, parseRunEvent } from './live-chat.js';
import { SseParser } from './sse.js';

describe('SseParser', () => {
  it('dispatches a block on its blank line, with event, data and id', () => {
    const p = new SseParser();
    expect(p.push('event: message\nid: 7\ndata: {"seq":7}\n')).toEqual([]);
    expect(p.push('\n')).toEqual([{ event: 'message', id: '7', data: '{"seq":7}' }]);
  });

  it('handles chunks split anywhere, including inside \\r\\n', () => {
    const text = 'event: ready\r\ndata: {}\r\n\r\nevent: run\r\ndata: {"id":"r1"}\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const p = new SseParser();
      const evs = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
      expect(evs, `cut at ${cut}`).toEqual([
        { event: 'ready', data: '{}' },
        { event: 'run', data: '{"id":"r1"}' },
      ]);
    }
  });

  it('joins multi-line data, defaults the event to message, ignores comments and data-less blocks', () => {
    const p = new SseParser();
    const evs = p.push(': keep-alive\n\nevent: ping\n\ndata:a\ndata: b\ndata\n\nretry: 10\n\n');
    expect(evs).toEqual([{ event: 'message', data: 'a\nb\n' }]);
  });

  it('does not carry fields from one block into the next, and drops an unterminated last block', () => {
    const p = new SseParser();
    expect(p.push('event: run\nid: 1\ndata: x\n\ndata: y\n\ndata: z')).toEqual([
      { event: 'run', id: '1', data: 'x' },
      { event: 'message', data: 'y' },
    ]);
    expect(p.end()).toEqual([]);
  });

  it('reads the daemon’s message and run payloads', () => {
    const msg = parseMessageEvent({
      event: 'message',
      data: JSON.stringify({
        seq: 3,
        chat: 'web:main',
        direction: 'out',
        sender: 'assistant',
        text: 'hi',
        ts: 5,
      }),
    });
    expect(msg).toEqual({
      seq: 3,
      chat: 'web:main',
      direction: 'out',
      sender: 'assistant',
      text: 'hi',
      ts: 5,
    });
    expect(parseMessageEvent({ event: 'message', data: 'not json' })).toBeUndefined();
    expect(parseMessageEvent({ event: 'run', data: '{}' })).toBeUndefined();
    expect(parseRunEvent({ event: 'run', data: '{"id":"r","status":"ok"}' })).toMatchObject({
      id: 'r',
    });
    expect(parseRunEvent({ event: 'run', data: '{"status":"ok"}' })).toBeUndefined();
  });
});
