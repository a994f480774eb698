import { describe, expect, it } from 'vitest';
import { configFileSchema } from '../../config/schema.js';
import type { Config } from '../../config/load.js';
import { discordAdapterSettings } from './index.js';

const config = (channels: object, env: Record<string, string> = {}) =>
  ({
    file: configFileSchema.parse({ channels }),
    env,
    paths: { home: '/data' },
  }) as unknown as Config;
const discordSettings = (c: Config) => discordAdapterSettings(c, c.file.channels.discord);

describe('discordAdapterSettings', () => {
  it('skips without a config block or without the token, naming what is missing', () => {
    expect(discordSettings(config({}))).toEqual({
      skip: 'no channels.discord block in config.yaml',
    });
    expect(discordSettings(config({ discord: { token: 'env:DISCORD_BOT_TOKEN' } }))).toEqual({
      skip: 'DISCORD_BOT_TOKEN is not set',
    });
  });

  it('resolves the token and applies the defaults', () => {
    expect(discordSettings(config({ discord: { token: 'env:DT' } }, { DT: 'secret' }))).toEqual({
      token: 'secret',
      apiBase: null,
      perChatIntervalMs: 1000,
      globalPerMinute: 1800,
      reconnectDelayMs: 1000,
      attachmentMaxBytes: 20 * 1024 * 1024,
      cursorFile: '/data/discord-cursors.json',
    });
  });

  it('refuses a token written into config.yaml', () => {
    expect(() => configFileSchema.parse({ channels: { discord: { token: 'abc.def' } } })).toThrow();
  });
});
