import type { Hono } from 'hono';
import type { GroupService } from '../groups/group-service.js';
import { apiError } from './errors.js';

/**
 * A group's extra mounts (docs/sandbox.md#mount-policy):
 * - `GET /api/groups/:name/mounts`: each mount as the group's next run gets it
 *   (`{name, hostPath, sandboxPath, readOnly, mode: "rw"|"ro"|"refused", notes, error}`);
 * - `POST /api/groups/:name/mounts {hostPath, name?, readOnly?}`: adds one (201) or replaces the
 *   one of that name (200), checked against the mount allowlist at once: a refusal is 403 with
 *   the rule and the fix; answers `{group, mount, replaced, notes}`;
 * - `DELETE /api/groups/:name/mounts/:mount` (the name URL-encoded): removes it → the group.
 * GroupErrors map through app.onError. Mount after the token middleware.
 */
export function mountGroupMountRoutes(app: Hono, groups: GroupService): void {
  app.get('/api/groups/:name/mounts', (c) => c.json(groups.mountStatus(c.req.param('name'))));
  app.post('/api/groups/:name/mounts', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return apiError(c, 400, 'invalid_json', 'the request body must be JSON');
    }
    const result = groups.mount(c.req.param('name'), body);
    return c.json(result, result.replaced ? 200 : 201);
  });
  app.delete('/api/groups/:name/mounts/:mount{.+}', (c) =>
    c.json(groups.unmount(c.req.param('name'), decodeURIComponent(c.req.param('mount')))),
  );
}
