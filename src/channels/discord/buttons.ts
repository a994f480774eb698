/**
 * Approval buttons on Discord (message components): an action row of buttons under the card,
 * presses as INTERACTION_CREATE (a button interaction), each answered at once with an ephemeral
 * reply (Discord shows "interaction failed" after 3 s otherwise), and the card edited once
 * decided (content replaced, components removed).
 */
import { MessageFlags, type ButtonInteraction, type Interaction } from 'discord.js';
import type { Logger } from 'pino';
import type { ActionPress, InboundSink, MessageAction } from '../channel.js';

/** Discord's limit for a button's custom_id. */
const CUSTOM_ID_MAX = 100;
const STYLE = { primary: 1, secondary: 2, danger: 4 } as const;

/** One action row of buttons (`custom_id` = the action's id). */
export function actionRow(actions: readonly MessageAction[]) {
  return [
    {
      type: 1,
      components: actions
        .filter((a) => a.id.length <= CUSTOM_ID_MAX)
        .map((a) => ({
          type: 2,
          style: STYLE[a.style ?? 'secondary'],
          label: a.label.slice(0, 80),
          custom_id: a.id,
        })),
    },
  ];
}

/** A button interaction as the press it stands for. */
export function pressOf(i: ButtonInteraction): ActionPress {
  const ch = i.channel;
  const chatId =
    ch && ch.isThread() && ch.parentId
      ? `discord:${ch.parentId}/${i.channelId}`
      : `discord:${i.channelId}`;
  return {
    chatId,
    sender: `discord:${i.user.id}`,
    senderName: i.user.globalName ?? i.user.username,
    actionId: i.customId,
    platformId: i.message.id,
  };
}

/**
 * One interaction: a button press is handed to the sink and answered with an ephemeral reply
 * (its text), whatever the outcome. Other interactions are not ours. Never rejects.
 */
export async function answerInteraction(
  i: Interaction,
  sink: InboundSink | undefined,
  log: Logger,
): Promise<void> {
  if (!i.isButton()) return;
  let text: string;
  try {
    text = sink?.press ? (await sink.press(pressOf(i))).text : 'This button is no longer active.';
  } catch (err) {
    log.error({ err: (err as Error).message }, 'Discord button press could not be handled');
    text = `Not taken: ${(err as Error).message}`;
  }
  try {
    await i.reply({ content: text.slice(0, 2000), flags: MessageFlags.Ephemeral });
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'Discord interaction could not be answered');
  }
}
