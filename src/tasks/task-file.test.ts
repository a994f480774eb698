import { describe, expect, it } from 'vitest';
import { idFromFileName, parseTaskFile } from './task-file.js';

const ctx = { group: 'team', defaultTimezone: 'Europe/Berlin' };

describe('parseTaskFile', () => {
  it('reads the documented example: a cron schedule and a prompt', () => {
    const r = parseTaskFile('{"schedule": "0 8 * * 1", "prompt": "compile changelog..."}', ctx);
    expect(r).toEqual({
      ok: true,
      input: { group: 'team', prompt: 'compile changelog...', schedule: '0 8 * * 1', type: 'cron' },
      schedule: { type: 'cron', value: '0 8 * * 1', timezone: 'Europe/Berlin' },
    });
  });

  it.each([
    ['15m', 'interval', '900000'],
    ['3600000', 'interval', '3600000'],
    [3_600_000, 'interval', '3600000'],
    ['PT30M', 'interval', '1800000'],
    ['2026-12-01T09:00', 'once', '2026-12-01T08:00:00.000Z'],
    ['2026-12-01T09:00:00Z', 'once', '2026-12-01T09:00:00.000Z'],
    ['*/10 * * * *', 'cron', '*/10 * * * *'],
    ['@hourly', 'cron', '0 * * * *'],
  ])('infers the type of %j', (schedule, type, value) => {
    const r = parseTaskFile({ schedule, prompt: 'p' }, ctx);
    expect(r.ok && r.input.type).toBe(type);
    expect(r.ok && r.schedule.value).toBe(value);
  });

  it('maps every optional key', () => {
    const r = parseTaskFile(
      {
        schedule: '0 9 * * *',
        prompt: 'p',
        type: 'cron',
        timezone: 'America/New_York',
        context_mode: 'group',
        missed_policy: 'all',
        missed_cap: 3,
        chat: 'tg:123',
        id: 'daily-brief',
      },
      ctx,
    );
    expect(r).toMatchObject({
      ok: true,
      input: {
        group: 'team',
        type: 'cron',
        timezone: 'America/New_York',
        contextMode: 'group',
        missedPolicy: 'all',
        missedCap: 3,
        chat: 'tg:123',
        id: 'daily-brief',
      },
      schedule: { timezone: 'America/New_York' },
    });
  });

  it('takes an id from the file name when the payload has none (idempotent re-drops)', () => {
    const r = parseTaskFile('{"schedule": "1h", "prompt": "p"}', {
      ...ctx,
      fileName: 'weekly brief.json',
    });
    expect(r.ok && r.input.id).toBe('team-weekly-brief');
    expect(idFromFileName('team', '.json')).toBeUndefined();
    expect(idFromFileName('team', '/x/y/abc.JSON')).toBe('team-abc');
  });

  it.each([
    ['not JSON', '{"schedule": "0 8 * * 1", ', 'invalid_json', /not valid JSON/],
    ['an array', '[1, 2]', 'invalid_task', /must be a JSON object/],
    ['null', 'null', 'invalid_task', /must be a JSON object/],
    ['no prompt', '{"schedule": "1h"}', 'invalid_task', /prompt/],
    [
      'empty prompt',
      '{"schedule": "1h", "prompt": "  "}',
      'invalid_task',
      /prompt: must not be empty/,
    ],
    ['no schedule', '{"prompt": "p"}', 'invalid_task', /schedule/],
    [
      'unknown key',
      '{"schedule": "1h", "prompt": "p", "when": "now"}',
      'invalid_task',
      /unknown key\(s\): when/,
    ],
    [
      'a claimed group',
      '{"schedule": "1h", "prompt": "p", "group": "main"}',
      'invalid_task',
      /"group" is not allowed/,
    ],
    [
      'a bad cron',
      '{"schedule": "0 25 * * *", "prompt": "p"}',
      'invalid_schedule',
      /Cron expression "0 25 \* \* \*"/,
    ],
    ['gibberish', '{"schedule": "whenever", "prompt": "p"}', 'invalid_schedule', /not recognised/],
    [
      'a short interval',
      '{"schedule": "1s", "prompt": "p"}',
      'invalid_schedule',
      /shorter than the minimum/,
    ],
    [
      'a bad zone',
      '{"schedule": "1h", "prompt": "p", "timezone": "Nowhere/City"}',
      'invalid_schedule',
      /Unknown time zone/,
    ],
    [
      'a wrong type',
      '{"schedule": "15m", "prompt": "p", "type": "cron"}',
      'invalid_schedule',
      /Cron expression/,
    ],
    [
      'a bad context',
      '{"schedule": "1h", "prompt": "p", "context_mode": "shared"}',
      'invalid_task',
      /context_mode/,
    ],
    [
      'a bad policy',
      '{"schedule": "1h", "prompt": "p", "missed_policy": "some"}',
      'invalid_task',
      /missed_policy/,
    ],
    [
      'a cap without all',
      '{"schedule": "1h", "prompt": "p", "missed_cap": 2}',
      'invalid_task',
      /missed_cap only applies/,
    ],
    [
      'a bad chat',
      '{"schedule": "1h", "prompt": "p", "chat": "nochannel"}',
      'invalid_task',
      /chat/,
    ],
    ['a bad id', '{"schedule": "1h", "prompt": "p", "id": "../etc"}', 'invalid_task', /id/],
    ['a number prompt', '{"schedule": "1h", "prompt": 5}', 'invalid_task', /prompt/],
  ])('refuses %s with a reason', (_name, text, code, message) => {
    const r = parseTaskFile(text, ctx);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(code);
      expect(r.message).toMatch(message);
    }
  });

  it('refuses an oversized file unread', () => {
    const r = parseTaskFile(`{"schedule": "1h", "prompt": "${'x'.repeat(300_000)}"}`, ctx);
    expect(r).toMatchObject({ ok: false, code: 'invalid_task' });
  });
});
