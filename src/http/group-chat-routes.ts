import type { Hono } from 'hono';
import { chatIdSchema } from '../store/group-schema.js';
import type { GroupService } from '../groups/group-service.js';
import { apiError } from './errors.js';

/**
 * `DELETE /api/groups/:name/chats/:chat` (the chat id URL-encoded): unbinds the chat from the
 * group and answers 200 with the group as it is now. 400 for a malformed chat id; 404 when the
 * group does not exist or the chat is not bound to it (GroupError, mapped by app.onError).
 * Mount after the token middleware.
 */
export function mountGroupChatRoutes(app: Hono, groups: GroupService): void {
  app.delete('/api/groups/:name/chats/:chat', (c) => {
    const chat = chatIdSchema.safeParse(c.req.param('chat'));
    if (!chat.success)
      return apiError(c, 400, 'invalid_chat', `chat: ${chat.error.issues[0]!.message}`);
    return c.json(groups.unbind(c.req.param('name'), chat.data));
  });
}
