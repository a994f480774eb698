/** Chat ids of the Slack channel: `slack:<channel id>` and `slack:<channel id>/<thread ts>`. */
export interface SlackTarget {
  /** Channel, private channel, DM or group DM id (C…, G…, D…). */
  channel: string;
  /** The thread's parent `ts` when the chat is a thread; replies are posted in it. */
  threadTs?: string;
}

const CHAT = /^slack:([A-Z0-9]+)(?:\/(\d+\.\d+))?$/;

export function slackChatId(channel: string, threadTs?: string | null): string {
  return threadTs ? `slack:${channel}/${threadTs}` : `slack:${channel}`;
}

/** The channel and thread of a chat id; undefined when the id is not a Slack chat id. */
export function parseSlackChatId(chatId: string): SlackTarget | undefined {
  const m = CHAT.exec(chatId);
  if (!m) return undefined;
  return m[2] ? { channel: m[1]!, threadTs: m[2] } : { channel: m[1]! };
}

/** Slack `ts` ("1712345678.000100") as epoch milliseconds. */
export function tsToMillis(ts: string): number {
  const n = Number.parseFloat(ts);
  return Number.isFinite(n) ? Math.round(n * 1000) : Date.now();
}

/** Metadata event type marking our posts, so a crashed send can be found again. */
export const REPLY_EVENT_TYPE = 'clawpod_reply';
