import { describe, expect, it } from 'vitest';
import { effectiveTrigger, isTriggered, triggerPattern } from './trigger.js';

const plain = { trigger: null, isMain: false, requiresTrigger: true };
const withTrigger = (trigger: string) => ({ trigger, isMain: false, requiresTrigger: true });

describe('isTriggered with the default trigger (@<assistant>)', () => {
  const t = (text: string) => isTriggered(text, plain, 'Andy');

  it('matches the trigger at the start of the message', () => {
    expect(t('@Andy hi')).toBe(true);
    expect(t('@Andy')).toBe(true);
  });

  it('is case-insensitive', () => {
    expect(t('@andy hi')).toBe(true);
    expect(t('@ANDY what now')).toBe(true);
  });

  it('ignores leading whitespace', () => {
    expect(t('   @Andy hi')).toBe(true);
    expect(t('\n\t@Andy hi')).toBe(true);
  });

  it('accepts punctuation right after the trigger (word boundary)', () => {
    expect(t('@Andy, hi')).toBe(true);
    expect(t('@Andy: hi')).toBe(true);
    expect(t('@Andy?')).toBe(true);
  });

  it('refuses a longer word that starts with the trigger', () => {
    expect(t('@AndyX')).toBe(false);
    expect(t('@Andy_bot hi')).toBe(false);
    expect(t('@Andy2 hi')).toBe(false);
  });

  it('refuses the trigger anywhere but the start', () => {
    expect(t('hi @Andy')).toBe(false);
    expect(t('x@Andy hi')).toBe(false);
    expect(t('')).toBe(false);
  });

  it('uses the assistant name it is given', () => {
    expect(isTriggered('@Bob hi', plain, 'Bob')).toBe(true);
    expect(isTriggered('@Andy hi', plain, 'Bob')).toBe(false);
  });
});

describe('isTriggered with a custom trigger', () => {
  it('prefers the group trigger over the assistant name', () => {
    const g = withTrigger('hey bot');
    expect(effectiveTrigger(g, 'Andy')).toBe('hey bot');
    expect(effectiveTrigger(plain, 'Andy')).toBe('@Andy');
    expect(isTriggered('hey bot, help', g, 'Andy')).toBe(true);
    expect(isTriggered('@Andy help', g, 'Andy')).toBe(false);
  });

  it('treats regex characters literally: c++ bot', () => {
    const g = withTrigger('c++ bot');
    expect(isTriggered('c++ bot do it', g, 'Andy')).toBe(true);
    expect(isTriggered('C++ BOT do it', g, 'Andy')).toBe(true);
    expect(isTriggered('c bot do it', g, 'Andy')).toBe(false);
    expect(isTriggered('ccc bot do it', g, 'Andy')).toBe(false);
    expect(isTriggered('c++ bots do it', g, 'Andy')).toBe(false);
  });

  it('treats regex characters literally: [bot]', () => {
    const g = withTrigger('[bot]');
    expect(isTriggered('[bot] status', g, 'Andy')).toBe(true);
    expect(isTriggered('[BOT]status', g, 'Andy')).toBe(true);
    // A character class would match a single letter.
    expect(isTriggered('b status', g, 'Andy')).toBe(false);
    expect(isTriggered('o', g, 'Andy')).toBe(false);
  });

  it('treats regex characters literally: hey.ai', () => {
    const g = withTrigger('hey.ai');
    expect(isTriggered('hey.ai what time is it', g, 'Andy')).toBe(true);
    expect(isTriggered('heyXai what time is it', g, 'Andy')).toBe(false);
    expect(isTriggered('hey.aix', g, 'Andy')).toBe(false);
  });

  it('handles the other regex metacharacters without throwing', () => {
    for (const trigger of [
      'a|b',
      '(x)',
      '^start',
      'end$',
      'q?',
      '{1}',
      'back\\slash',
      'a*b',
      '/slash/',
      'x-y',
    ]) {
      expect(() => triggerPattern(trigger)).not.toThrow();
      expect(isTriggered(`${trigger} go`, withTrigger(trigger), 'Andy'), trigger).toBe(true);
    }
    expect(isTriggered('b go', withTrigger('a|b'), 'Andy')).toBe(false);
    expect(isTriggered('x go', withTrigger('(x)'), 'Andy')).toBe(false);
    expect(isTriggered('b go', withTrigger('a*b'), 'Andy')).toBe(false);
  });

  it('trims the configured trigger', () => {
    expect(isTriggered('@Bot hi', withTrigger('  @Bot  '), 'Andy')).toBe(true);
  });
});

describe('groups that need no trigger', () => {
  it('main answers every message', () => {
    const main = { trigger: null, isMain: true, requiresTrigger: true };
    expect(isTriggered('hello there', main, 'Andy')).toBe(true);
    expect(isTriggered('hi @Andy', main, 'Andy')).toBe(true);
  });

  it('requiresTrigger=false answers every message', () => {
    const direct = { trigger: '@Bot', isMain: false, requiresTrigger: false };
    expect(isTriggered('hello there', direct, 'Andy')).toBe(true);
  });
});
