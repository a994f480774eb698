import { describe, expect, it } from 'vitest';
import { parseGroupSettings } from './group-settings.js';
import { UsageError } from './usage-error.js';

describe('parseGroupSettings', () => {
  it('reads harness settings: effort, agent teams, env entries, JSON senders and provider', () => {
    expect(
      parseGroupSettings([
        'effort=high',
        'agent_teams=true',
        'env.PROJECT=apollo',
        'env.OLD=null',
        'senders={"allow":["tg:1"],"others":"drop"}',
        'provider=null',
      ]),
    ).toEqual({
      effort: 'high',
      agentTeams: true,
      envPatch: { PROJECT: 'apollo', OLD: null },
      senders: { allow: ['tg:1'], others: 'drop' },
      provider: null,
    });
    expect(() => parseGroupSettings(['senders={nope'])).toThrow(/JSON/);
  });

  it('reads delegates as a comma list or a JSON array; null clears it', () => {
    expect(parseGroupSettings(['delegates=coder, research'])).toEqual({
      delegates: ['coder', 'research'],
    });
    expect(parseGroupSettings(['delegates=["coder"]'])).toEqual({ delegates: ['coder'] });
    expect(parseGroupSettings(['delegates=null'])).toEqual({ delegates: null });
  });

  it('reads <harness>.<option> as JSON when it is JSON, else as text', () => {
    expect(
      parseGroupSettings([
        'claude.effort=high',
        'claude.agentTeams=true',
        'codex.provider={"name":"x"}',
        'codex.effort=null',
      ]),
    ).toEqual({
      harnessOptions: {
        claude: { effort: 'high', agentTeams: true },
        codex: { provider: { name: 'x' }, effort: null },
      },
    });
    expect(() => parseGroupSettings(['claude.=x'])).toThrow(UsageError);
    expect(() => parseGroupSettings(['gpt.effort=x'])).toThrow(/unknown setting "gpt.effort"/);
  });

  it('maps keys, aliases, booleans, numbers and null', () => {
    expect(
      parseGroupSettings([
        'trigger=@Bob',
        'requiresTrigger=FALSE',
        'command=echo a=b',
        'limits.cpus=0.5',
        'limits.pids=null',
        'model=null',
      ]),
    ).toEqual({
      trigger: '@Bob',
      requiresTrigger: false,
      command: 'echo a=b',
      model: null,
      limits: { cpus: 0.5, pids: undefined },
    });
    expect(parseGroupSettings(['requires_trigger=true'])).toEqual({ requiresTrigger: true });
  });

  it('throws UsageError for syntax problems', () => {
    for (const bad of [
      [],
      ['x'],
      ['=1'],
      ['nope=1'],
      ['requires_trigger=yes'],
      ['limits.memoryMb='],
      ['limits.memoryMb=lots'],
    ]) {
      expect(() => parseGroupSettings(bad), bad.join(' ')).toThrow(UsageError);
    }
  });
});
