import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { checkOwnerIds } from './doctor-checks.js';
import { tempHome } from '../../test/support/daemon-harness.js';

describe('checkOwnerIds', () => {
  it('warns when main is bound to a chat on a channel where no owner id is known', () => {
    const config = loadConfig({ CLAWPOD_HOME: tempHome() });
    const [finding] = checkOwnerIds(config, { chats: ['web:main', 'tg:4242'], senders: null });
    expect(finding).toMatchObject({ level: 'warn' });
    expect(finding!.title).toContain('tg:4242');
    expect(finding!.fix).toContain("owner: { ids: ['tg:<your id>'] }");
  });

  it('is content once the owner id is set, or when main lets everyone wake it', () => {
    const withOwner = loadConfig({ CLAWPOD_HOME: tempHome("owner: { ids: ['tg:4242'] }\n") });
    expect(checkOwnerIds(withOwner, { chats: ['tg:4242'], senders: null })[0]!.level).toBe('ok');
    const open = loadConfig({ CLAWPOD_HOME: tempHome() });
    expect(checkOwnerIds(open, { chats: ['tg:1'], senders: { allow: 'all' } })).toEqual([]);
  });
});
