import { describe, expect, it } from 'vitest';
import { configFileSchema } from '../config/schema.js';

const parse = (webhooks: unknown) => configFileSchema.safeParse({ webhooks });

describe('webhooks config', () => {
  it('fills the defaults', () => {
    const r = parse({ deploy: { secret: 'env:HOOK', chat: 'web:ops' } });
    expect(r.success && r.data.webhooks?.deploy).toEqual({
      secret: 'env:HOOK',
      chat: 'web:ops',
      auth: 'hmac',
      maxBytes: 256 * 1024,
    });
  });

  it('refuses plain secrets, bad names, bad chats and unknown keys', () => {
    expect(parse({ deploy: { secret: 'hunter2', chat: 'web:ops' } }).success).toBe(false);
    expect(parse({ 'Bad Name': { secret: 'env:H', chat: 'web:ops' } }).success).toBe(false);
    expect(parse({ deploy: { secret: 'env:H', chat: 'ops' } }).success).toBe(false);
    expect(parse({ deploy: { secret: 'env:H', chat: 'web:ops', extra: 1 } }).success).toBe(false);
    expect(parse({ deploy: { secret: 'env:H', chat: 'web:ops', auth: 'basic' } }).success).toBe(
      false,
    );
  });
});
