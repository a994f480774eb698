/**
 * Discord API objects as the fake server (discord-server.ts) sends them: users, channels,
 * guilds, messages, READY. Only the fields discord.js reads are filled in; shapes follow
 * Discord's API v10 documentation.
 */

export type Json = Record<string, unknown>;

export interface FakeUser {
  id: string;
  username: string;
  global_name?: string | null;
  bot?: boolean;
}

export interface FakeChannel {
  id: string;
  /** 0 text, 1 DM, 11 public thread. */
  type: 0 | 1 | 11;
  name?: string;
  guildId?: string;
  parentId?: string;
  recipient?: FakeUser;
}

export interface FakeGuild {
  id: string;
  name: string;
  channels: FakeChannel[];
}

const DISCORD_EPOCH = 1_420_070_400_000n;
let counter = 0n;
/** A real-looking snowflake (discord.js reads the creation time from it). */
export function snowflake(at = Date.now()): string {
  counter = (counter + 1n) & 0xfffn;
  return (((BigInt(at) - DISCORD_EPOCH) << 22n) | counter).toString();
}

export const userJson = (u: FakeUser): Json => ({
  id: u.id,
  username: u.username,
  global_name: u.global_name ?? null,
  discriminator: '0',
  avatar: null,
  bot: u.bot ?? false,
});

/** A message object as in MESSAGE_CREATE and the create-message response. */
export function messageJson(
  channel: FakeChannel,
  author: FakeUser,
  content: string,
  extra: Json,
): Json {
  const guild = channel.guildId;
  const member = {
    roles: [],
    joined_at: new Date().toISOString(),
    nick: null,
    deaf: false,
    mute: false,
    flags: 0,
  };
  return {
    id: snowflake(),
    channel_id: channel.id,
    ...(guild ? { guild_id: guild, member } : {}),
    channel_type: channel.type,
    author: userJson(author),
    content,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    components: [],
    pinned: false,
    type: 0,
    flags: 0,
    ...extra,
  };
}

export function channelJson(c: FakeChannel, botId: string): Json {
  if (c.type === 1)
    return { id: c.id, type: 1, recipients: [userJson(c.recipient!)], last_message_id: null };
  const base = { id: c.id, type: c.type, guild_id: c.guildId, name: c.name, flags: 0 };
  if (c.type === 11)
    return {
      ...base,
      parent_id: c.parentId,
      owner_id: botId,
      thread_metadata: {
        archived: false,
        auto_archive_duration: 1440,
        archive_timestamp: new Date().toISOString(),
        locked: false,
      },
      member_count: 1,
      message_count: 0,
      total_message_sent: 0,
      rate_limit_per_user: 0,
    };
  return {
    ...base,
    position: 0,
    permission_overwrites: [],
    parent_id: null,
    topic: null,
    nsfw: false,
    last_message_id: null,
    rate_limit_per_user: 0,
  };
}

/** GUILD_CREATE's payload: the guild with its channels and active threads. */
export function guildJson(g: FakeGuild, botId: string): Json {
  const of = (threads: boolean) =>
    g.channels
      .filter((c) => (c.type === 11) === threads)
      .map((c) => channelJson({ ...c, guildId: g.id }, botId));
  return {
    id: g.id,
    name: g.name,
    icon: null,
    owner_id: '1',
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: [
      {
        id: g.id,
        name: '@everyone',
        color: 0,
        hoist: false,
        position: 0,
        permissions: '1071698660929',
        managed: false,
        mentionable: false,
        flags: 0,
      },
    ],
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    joined_at: new Date().toISOString(),
    large: false,
    unavailable: false,
    member_count: 2,
    voice_states: [],
    members: [],
    channels: of(false),
    threads: of(true),
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    premium_tier: 0,
    preferred_locale: 'en-US',
    nsfw_level: 0,
  };
}

export function readyJson(bot: FakeUser, guilds: FakeGuild[], sessionId: string, url: string) {
  return {
    v: 10,
    user: { ...userJson(bot), verified: true, mfa_enabled: false, flags: 0 },
    guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
    session_id: sessionId,
    resume_gateway_url: url,
    shard: [0, 1],
    application: { id: bot.id, flags: 0 },
  };
}

/** A 429 as Discord sends it: whole seconds in Retry-After, the exact value in the body. */
export function rateLimited(retryAfterS: number, global: boolean) {
  return {
    body: { message: 'You are being rate limited.', retry_after: retryAfterS, global },
    headers: {
      'retry-after': String(Math.ceil(retryAfterS)),
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset-after': String(retryAfterS),
      'x-ratelimit-bucket': 'fake-bucket',
      'x-ratelimit-scope': global ? 'global' : 'user',
      ...(global ? { 'x-ratelimit-global': 'true' } : {}),
    },
  };
}

/** Discord's 400 for a message over 2,000 characters. */
export function contentTooLong(): Json {
  return {
    message: 'Invalid Form Body',
    code: 50035,
    errors: {
      content: {
        _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }],
      },
    },
  };
}
