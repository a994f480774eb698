import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/errors.js';
import { version } from '../version.js';
import { registerApprovals } from './commands/approvals.js';
import { registerChat } from './commands/chat.js';
import { registerChats } from './commands/chats.js';
import { registerDeadLetters } from './commands/deadletters.js';
import { registerDoctor } from './commands/doctor.js';
import { registerGroups } from './commands/groups.js';
import { registerHistory } from './commands/history.js';
import { registerLogs } from './commands/logs.js';
import { registerOpen } from './commands/open.js';
import { registerRuns } from './commands/runs.js';
import { registerSecrets } from './commands/secrets.js';
import { registerSend } from './commands/send.js';
import { registerSkills } from './commands/skills.js';
import { registerService } from './commands/service.js';
import { registerSetup } from './commands/setup.js';
import { registerStart } from './commands/start.js';
import { registerStatus } from './commands/status.js';
import { registerTasks } from './commands/tasks.js';
import { UsageError } from './usage-error.js';

/** The `clawpod` command tree, every command registered (nothing run). */
export function buildProgram(): Command {
  const program = new Command('clawpod')
    .description('an always-on assistant host')
    .version(version)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of [
    registerSetup,
    registerStart,
    registerStatus,
    registerOpen,
    registerDoctor,
    registerChat,
    registerSend,
    registerGroups,
    registerChats,
    registerRuns,
    registerTasks,
    registerDeadLetters,
    registerHistory,
    registerApprovals,
    registerSecrets,
    registerSkills,
    registerLogs,
    registerService,
  ])
    register(program);
  return program;
}

/** Exit codes: 0 ok, 1 failure, 2 usage error. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`clawpod: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`clawpod: bad configuration: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`clawpod: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
