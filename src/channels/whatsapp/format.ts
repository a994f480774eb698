/**
 * How a reply reads on WhatsApp. The text goes out as the model wrote it: WhatsApp renders the
 * common marks itself (`*bold*`, `_italic_`, `~strike~`, ``` ```code``` ```), and the rest reads
 * fine as plain text. In self mode (the bot shares the owner's number) every text starts with
 * `<assistant>: `, which is also how the bot's own messages are told from the owner's.
 */

/** The self-mode prefix, or null when the bot has a number of its own. */
export function selfPrefix(opts: { selfChat: boolean; assistantName: string }): string | null {
  return opts.selfChat ? `${opts.assistantName}: ` : null;
}

/** One reply text as sent: prefixed in self mode. */
export function formatText(text: string, prefix: string | null): string {
  return `${prefix ?? ''}${text}`;
}
