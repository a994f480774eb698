import { describe, expect, it } from 'vitest';
import { buildProgram } from './main.js';

describe('clawpod command tree', () => {
  it('a command with a list lists when given no subcommand (clawpod tasks = clawpod tasks list)', async () => {
    const program = buildProgram();
    const withList = program.commands.filter((c) => c.commands.some((s) => s.name() === 'list'));
    expect(withList.map((c) => c.name()).sort()).toEqual(
      ['approvals', 'chats', 'deadletters', 'groups', 'runs', 'secrets', 'skills', 'tasks'].sort(),
    );
    const ran: string[] = [];
    for (const c of withList) {
      // Stand-in actions: this checks the dispatch, not what listing prints.
      for (const sub of c.commands) sub.action(() => void ran.push(`${c.name()} ${sub.name()}`));
    }
    for (const c of withList) await program.parseAsync([c.name()], { from: 'user' });
    expect(ran).toEqual(withList.map((c) => `${c.name()} list`));
  });
});
