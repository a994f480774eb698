/**
 * Approval buttons on Slack (Block Kit): the card as section blocks with an actions block of
 * buttons under it, presses as `block_actions` payloads (Socket Mode `interactive` envelopes,
 * or the Interactivity Request URL in http mode, which is the events route), each acknowledged
 * at once and answered with an ephemeral message, and the card replaced by `chat.update` once
 * decided (the actions block goes).
 */
import type { MessageAction, ActionPress } from '../channel.js';
import { slackChatId } from './ids.js';

/** Slack's limit for a section's text. */
const SECTION_MAX = 3000;

type Block = Record<string, unknown>;

/** The text as section blocks (mrkdwn), split to Slack's section limit. */
export function sectionBlocks(mrkdwn: string): Block[] {
  const blocks: Block[] = [];
  for (let i = 0; i < mrkdwn.length || i === 0; i += SECTION_MAX)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: mrkdwn.slice(i, i + SECTION_MAX) || ' ' },
    });
  return blocks;
}

/** The text and one actions block of buttons (`action_id` = the action's id). */
export function cardBlocks(mrkdwn: string, actions: readonly MessageAction[]): Block[] {
  return [
    ...sectionBlocks(mrkdwn),
    {
      type: 'actions',
      block_id: 'clawpod_actions',
      elements: actions.map((a) => ({
        type: 'button',
        action_id: a.id,
        value: a.id,
        text: { type: 'plain_text', text: a.label, emoji: true },
        ...(a.style ? { style: a.style } : {}),
      })),
    },
  ];
}

/** A `block_actions` payload as the press it stands for; undefined when it names no button. */
export function pressOf(body: unknown): ActionPress | undefined {
  const b = body as {
    type?: string;
    user?: { id?: string; name?: string; username?: string };
    channel?: { id?: string };
    container?: { channel_id?: string; message_ts?: string; thread_ts?: string };
    message?: { ts?: string; thread_ts?: string };
    actions?: Array<{ action_id?: string }>;
  };
  const channel = b.channel?.id ?? b.container?.channel_id;
  const actionId = b.actions?.[0]?.action_id;
  if (b.type !== 'block_actions' || !b.user?.id || !channel || !actionId) return undefined;
  const thread = b.message?.thread_ts ?? b.container?.thread_ts;
  const ts = b.message?.ts ?? b.container?.message_ts;
  return {
    chatId: slackChatId(channel, thread && thread !== ts ? thread : undefined),
    sender: `slack:${b.user.id}`,
    senderName: b.user.name ?? b.user.username ?? null,
    actionId,
    platformId: ts ?? null,
  };
}
