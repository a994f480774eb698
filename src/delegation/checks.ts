/**
 * Who may delegate to whom, and how far: `main` to any group, another group only to the groups
 * in its `delegates` setting; the depth (`delegation.maxDepth`) and the per-turn fan-out
 * (`delegation.maxFanOut`). A refusal says which setting refused and how to change it.
 */
import type { Config } from '../config/load.js';
import type { IpcActor, IpcResult } from '../ipc/request-handler.js';
import type { DelegationRecord } from '../store/delegations.js';
import type { Group } from '../store/group-schema.js';
import type { Store } from '../store/store.js';

const fail = (code: string, message: string): IpcResult => ({
  ok: false,
  error: { code, message },
});

/** The target group, the delegation the caller's run serves (if any) and the new depth. */
export interface CheckedDelegation {
  target: Group;
  parent: DelegationRecord | undefined;
  depth: number;
}

export function checkDelegation(
  store: Store,
  limits: Config['file']['delegation'],
  actor: IpcActor,
  callerRunId: string,
  group: string,
): CheckedDelegation | IpcResult {
  const target = store.groups.get(group);
  if (!target)
    return fail('not_found', `no group named "${group}" (clawpod groups list shows them)`);
  const caller = store.groups.get(actor.group);
  const allowed = caller?.delegates ?? [];
  if (!actor.isMain && !allowed.includes(target.folder))
    return fail(
      'forbidden',
      `group "${actor.group}" may not delegate to "${target.folder}": a group other than main may delegate only to the groups in its \`delegates\` setting (now: ${allowed.length ? allowed.join(', ') : 'none'}). The owner can allow it: clawpod groups set ${actor.group} delegates=${[...allowed, target.folder].join(',')}`,
    );
  const parent = store.delegations.byRun(callerRunId);
  const depth = (parent?.depth ?? 0) + 1;
  if (depth > limits.maxDepth)
    return fail(
      'depth_limit',
      `delegation depth ${depth} is over delegation.maxDepth (${limits.maxDepth}): this run is itself a delegate at depth ${depth - 1} and may not delegate further`,
    );
  const earlier = store.delegations.byCaller(callerRunId).length;
  if (earlier >= limits.maxFanOut)
    return fail(
      'fan_out_limit',
      `this turn already started ${earlier} delegations, the most one turn may (delegation.maxFanOut: ${limits.maxFanOut})`,
    );
  return { target, parent, depth };
}
