import type { Store } from '../store/store.js';

/** A web chat is seen only while the Control UI or `clawpod chat` is open: it pushes nothing. */
const pushes = (chat: string): boolean => !chat.startsWith('web:');

/**
 * Where the owner is told things (notices, and approval cards asked outside their own
 * conversation): of `main`'s chats on a channel that reaches them (Telegram, Slack, … — not
 * the web chat), the one where an owner id wrote last, else the first; main's first chat when
 * it has no other; null without a main chat.
 */
export function ownerChat(
  store: Pick<Store, 'groups' | 'messages'>,
  ownerIds: readonly string[],
): string | null {
  const chats = store.groups.main()?.chats ?? [];
  const reaching = chats.filter(pushes);
  if (!reaching.length) return chats[0] ?? null;
  return store.messages.lastChatOfSenders(reaching, ownerIds) ?? reaching[0]!;
}
