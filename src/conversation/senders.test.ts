import { describe, expect, it } from 'vitest';
import { effectiveSenders, senderAllowed, senderRole } from './senders.js';

const main = { isMain: true, senders: null };
const team = { isMain: false, senders: null };

describe('who may wake a group, and what each sender is', () => {
  it('main wakes only for the owner unless its senders say otherwise', () => {
    const owners = ['tg:4242'];
    expect(senderAllowed(main, 'owner', owners)).toBe(true);
    expect(senderAllowed(main, 'tg:4242', owners)).toBe(true);
    expect(senderAllowed(main, 'tg:666', owners)).toBe(false);
    expect(effectiveSenders(main, owners)).toEqual({
      allow: ['owner', 'tg:4242'],
      others: 'store',
    });
    const open = { isMain: true, senders: { allow: 'all' as const, others: 'store' as const } };
    expect(senderAllowed(open, 'tg:666', owners)).toBe(true);
  });

  it('other groups let everyone in their chats wake them unless they list senders', () => {
    expect(senderAllowed(team, 'tg:666', [])).toBe(true);
    const listed = { isMain: false, senders: { allow: ['tg:1'], others: 'drop' as const } };
    expect(senderAllowed(listed, 'tg:1', [])).toBe(true);
    expect(senderAllowed(listed, 'tg:2', [])).toBe(false);
  });

  it('roles come from stable ids: owner, member, external', () => {
    expect(senderRole('owner', team, [])).toBe('owner');
    expect(senderRole('tg:4242', team, ['tg:4242'])).toBe('owner');
    expect(senderRole('tg:666', team, ['tg:4242'])).toBe('member');
    expect(senderRole('webhook:deploy', team, [])).toBe('external');
    expect(senderRole('mail:x@y.z', team, [])).toBe('external');
    const listed = { senders: { allow: ['mail:bob@x.y'], others: 'store' as const } };
    expect(senderRole('mail:bob@x.y', listed, [])).toBe('member');
  });
});
