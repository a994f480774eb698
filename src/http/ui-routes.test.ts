import { join } from 'node:path';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/tmp.js';
import { dataPaths } from '../config/load.js';
import { GroupService } from '../groups/group-service.js';
import { Store } from '../store/store.js';
import { apiError } from './errors.js';
import { mountUiRoutes } from './ui-routes.js';

const tempDir = useTempDirs('clawpod-ui-routes-');
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

/** The Control UI's routes over the store at `home` (a daemon's, after a start). */
function routes(home: string): { app: Hono; store: Store } {
  const store = Store.open(join(home, 'clawpod.db'));
  stores.push(store);
  const app = new Hono();
  app.onError((_err, c) => apiError(c, 500, 'internal', 'internal error'));
  mountUiRoutes(
    app,
    {
      store,
      groups: new GroupService(store, dataPaths(home)),
      groupsDir: join(home, 'groups'),
      timezone: 'UTC',
      stopRun: () => false,
    },
    'claude',
  );
  return { app, store };
}

const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as unknown });

describe('GET /api/runs/:id/transcript', () => {
  it("keeps a run's tool steps and replies across a restart", async () => {
    const home = tempDir();
    const before = routes(home);
    before.store.groups.insert('main', {}, { isMain: true, now: 1 });
    before.store.runs.start({
      id: 'run1',
      group: 'main',
      kind: 'message',
      chatId: 'web:owner',
      seqStart: null,
      seqEnd: null,
      attempt: 1,
      now: 10,
    });
    before.store.transcripts.recordTurn('run1', {
      prompt: 'hi',
      replies: ['done'],
      tools: [{ name: 'Bash', summary: 'ls -la: a: b', at: 11 }],
      at: 12,
    });
    before.store.close();
    stores.length = 0;

    const after = routes(home); // the daemon started again on the same data dir
    const { status, body } = await json(await after.app.request('/api/runs/run1/transcript'));
    expect(status).toBe(200);
    expect(body).toMatchObject({
      run: { id: 'run1' },
      steps: [{ at: 11, kind: 'tool', name: 'Bash', summary: 'ls -la: a: b' }],
    });
  });

  it('answers 404 with a message for an unknown run', async () => {
    const { app } = routes(tempDir());
    expect(await json(await app.request('/api/runs/nope/transcript'))).toEqual({
      status: 404,
      body: { error: { code: 'not_found', message: 'no run nope' } },
    });
  });
});

describe('Control UI routes: bad requests get a 4xx with a message', () => {
  it('a bad recent-messages limit, a bad schedule, a path out of the folder', async () => {
    const { app, store } = routes(tempDir());
    store.groups.insert('main', {}, { isMain: true, now: 1 });
    const limit = await json(await app.request('/api/chats/web%3Aowner/recent?limit=0'));
    expect(limit.status).toBe(400);
    expect(JSON.stringify(limit.body)).toContain('limit');
    const schedule = await json(await app.request('/api/schedule/next?schedule=sometimes'));
    expect(schedule.status).toBe(400);
    expect(JSON.stringify(schedule.body)).toContain('sometimes');
    const escape = await json(await app.request('/api/groups/main/files?path=..%2F..%2Fetc'));
    expect(escape.status).toBe(400);
    expect((escape.body as { error: { message: string } }).error.message).toBeTruthy();
  });
});
