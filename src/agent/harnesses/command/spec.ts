import * as z from 'zod/mini';
import type { HarnessSpec } from '../../../protocol/harness-spec.js';

/** The command harness has no options (its shell command is the group's `command`). */
export const commandOptionsSchema = z.strictObject({});

/** Any shell command: the prompt on stdin, the reply on stdout. Needs no package and no key. */
export const commandSpec: HarnessSpec<z.infer<typeof commandOptionsSchema>> = {
  name: 'command',
  optionsSchema: commandOptionsSchema,
  credentialProblem: () => undefined,
  packages: () => [],
};
