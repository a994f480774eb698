import { mkdirSync } from 'node:fs';
import { dataPaths, isValidTimezone, resolveHome } from '../../config/load.js';
import { readDotenv } from '../../config/dotenv.js';
import type { CheckResult } from '../doctor-checks.js';
import { channelInfo, channelNames, type ChannelName } from './channel-plans.js';
import { channelStep, type Endpoints } from './channel-step.js';
import { ConfigDoc } from './config-doc.js';
import type { SetupContext } from './context.js';
import { modelStep } from './model-step.js';
import { Prompter, type PromptIo } from './prompter.js';
import { runtimeStep, type RuntimeProbe } from './runtime-step.js';

/** What the wizard uses beyond the terminal; each replaceable in tests. */
export interface SetupDeps {
  probeRuntimes?: RuntimeProbe;
  /** `clawpod doctor`'s checks for this environment. */
  doctor: (env: Record<string, string | undefined>) => Promise<CheckResult[]>;
  renderDoctor: (results: CheckResult[]) => string;
  /** Writes the service file; the lines to show. */
  installService?: () => string[];
}

export interface WizardOptions {
  io?: PromptIo;
  /** The process environment (CLAWPOD_HOME, TZ, keys already exported). */
  env: Record<string, string | undefined>;
  endpoints?: Endpoints;
  checkTimeoutMs?: number;
  deps: SetupDeps;
}

const NAME = /^[A-Za-z][\w-]{0,31}$/;

/** Creates the data dir (0700) and reads config.yaml and `.env` as they are. */
export function openSetup(
  env: Record<string, string | undefined>,
  checkTimeoutMs = 15_000,
): SetupContext {
  const paths = dataPaths(resolveHome(env));
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  const doc = ConfigDoc.load(paths.configFile);
  doc.validate(); // a broken config is fixed by hand first (the error names file and key)
  const merged: Record<string, string> = { ...readDotenv(paths.envFile) };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  return { paths, doc, env: merged, checkTimeoutMs };
}

/** The zone to offer: config.yaml's, else TZ, else the system's. */
function detectedZone(ctx: SetupContext): string {
  const configured = ctx.doc.get(['timezone']);
  if (typeof configured === 'string') return configured;
  const tz = ctx.env.TZ;
  if (tz && isValidTimezone(tz)) return tz;
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

async function identityStep(ui: Prompter, ctx: SetupContext): Promise<void> {
  const name = await ui.text({
    message: "The assistant's name (people call it with @name in group chats)",
    initial: (ctx.doc.get(['assistant', 'name']) as string | undefined) ?? 'Andy',
    validate: (v) =>
      NAME.test(v) ? undefined : 'a letter, then letters, digits, _ or - (up to 32)',
  });
  const zone = await ui.text({
    message: 'Time zone (for schedules and message times)',
    initial: detectedZone(ctx),
    validate: (v) => (isValidTimezone(v) ? undefined : 'an IANA zone such as Europe/Berlin'),
  });
  ctx.doc.set(['assistant', 'name'], name);
  ctx.doc.set(['timezone'], zone);
  ctx.doc.save();
  ui.ok(`assistant @${name}, time zone ${zone}`);
}

async function channelsStep(ui: Prompter, ctx: SetupContext, ep: Endpoints): Promise<string[]> {
  const added: string[] = [];
  for (;;) {
    const configured = (n: ChannelName) => ctx.doc.get(['channels', n]) !== undefined;
    const choice = await ui.select<ChannelName | 'done'>(
      added.length ? 'Add another channel?' : 'Add a chat channel? (the web chat is always there)',
      [
        ...channelNames.map((n) => ({
          value: n,
          label: channelInfo[n].label,
          ...(configured(n) ? { hint: 'configured: check or change' } : {}),
        })),
        { value: 'done' as const, label: added.length ? 'Done' : 'No channel for now' },
      ],
    );
    if (choice === 'done') return added;
    if (await channelStep(ui, ctx, choice, ep)) added.push(channelInfo[choice].label);
  }
}

/**
 * `clawpod setup`: node and sandbox, model credential, name and zone, channels with a live
 * check and the owner's chat bound to main, then doctor and the service. Each step saves at
 * once (config.yaml through the yaml Document API, comments kept; secrets in `.env`, 0600),
 * so a cancelled run keeps what it did. Returns the exit code.
 */
export async function runWizard(o: WizardOptions): Promise<number> {
  const ui = new Prompter(o.io);
  ui.intro('clawpod setup');
  const ctx = openSetup(o.env, o.checkTimeoutMs);
  ui.info(`data dir ${ctx.paths.home}`);
  const doc = ctx.doc.validate();
  await runtimeStep(
    ui,
    { configured: doc.runtime, image: doc.sandbox.image },
    o.deps.probeRuntimes,
  );
  await modelStep(ui, ctx);
  await identityStep(ui, ctx);
  const added = await channelsStep(ui, ctx, o.endpoints ?? {});

  ui.step('clawpod doctor');
  const results = await o.deps.doctor({ ...o.env, CLAWPOD_HOME: ctx.paths.home });
  ui.note(o.deps.renderDoctor(results), 'doctor');

  if (
    o.deps.installService &&
    (await ui.confirm('Run clawpod as a service (starts at login)?', false))
  )
    ui.note(o.deps.installService().join('\n'), 'service');

  const name = ctx.doc.get(['assistant', 'name']) as string;
  ui.outro(
    [
      'Start it: clawpod start' +
        (added.length ? ` — then write to the assistant (@${name}) on ${added.join(', ')}` : ''),
      'The web chat link (with its token): clawpod status',
      'Change anything later: clawpod setup again, or see clawpod --help',
    ].join('\n   '),
  );
  return 0;
}
