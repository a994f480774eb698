import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChannelCursors } from './cursors.js';

describe('ChannelCursors', () => {
  it('only moves forward, lists the most recent channels first, and survives a restart', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'discord-cursors-')), 'c.json');
    const c = new ChannelCursors(file);
    c.advance('1', '100');
    c.advance('1', '90'); // older: ignored
    c.advance('2', '300');
    c.advance('3', '200');
    expect(c.get('1')).toBe('100');
    expect(c.recent(2)).toEqual([
      { channelId: '2', after: '300' },
      { channelId: '3', after: '200' },
    ]);
    c.forget('3');
    c.flush();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ '1': '100', '2': '300' });
    expect(new ChannelCursors(file).recent(5)).toHaveLength(2);
  });

  it('starts empty from a missing or malformed file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'discord-cursors-'));
    expect(new ChannelCursors(join(dir, 'none.json')).recent(5)).toEqual([]);
    writeFileSync(join(dir, 'bad.json'), '{"1": "../etc"}');
    expect(new ChannelCursors(join(dir, 'bad.json')).recent(5)).toEqual([]);
  });
});
