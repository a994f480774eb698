import type { Config, DataPaths } from '../../config/load.js';
import { GroupService } from '../../groups/group-service.js';
import { withLocalStore } from '../local.js';
import { updateEnvFile } from '../env-file.js';
import type { ConfigDoc } from './config-doc.js';

/** What every step of `clawpod setup` works on: the data dir, config.yaml and the secrets. */
export interface SetupContext {
  paths: DataPaths;
  doc: ConfigDoc;
  /** The process environment over `.env`, updated as secrets are stored. Never printed. */
  env: Record<string, string>;
  /** Bound for each live check (Telegram getMe, Slack auth.test, IMAP/SMTP login…). */
  checkTimeoutMs: number;
}

/** Stores secrets in `$CLAWPOD_HOME/.env` (0600) at once, and in the context's env. */
export function storeSecrets(ctx: SetupContext, secrets: Record<string, string>): void {
  if (!Object.keys(secrets).length) return;
  updateEnvFile(ctx.paths.envFile, secrets);
  Object.assign(ctx.env, secrets);
}

/** The configuration as config.yaml would give it now (validated; a ConfigError names the key). */
export function configNow(ctx: SetupContext, timezone = 'UTC'): Config {
  return { paths: ctx.paths, file: ctx.doc.validate(), timezone, env: ctx.env };
}

/** What binding a chat to main did. */
export type BindResult = 'bound' | 'already' | { boundTo: string };

/**
 * Makes `ownerId` an owner (config `owner.ids`, saved) and binds `chat` to `main` in the
 * database (created if needed, as `clawpod start` would). A chat bound to another group is
 * left there and reported.
 */
export async function bindOwner(
  ctx: SetupContext,
  link: { ownerId?: string; chat?: string },
): Promise<BindResult> {
  if (link.ownerId) {
    ctx.doc.addToList(['owner', 'ids'], link.ownerId);
    ctx.doc.save();
  }
  if (!link.chat) return 'already';
  const chat = link.chat;
  const config = configNow(ctx);
  return withLocalStore(config, { create: true }, (store) => {
    const groups = new GroupService(store, config.paths);
    const main = groups.ensureMain();
    if (main.chats.includes(chat)) return 'already' as const;
    const other = store.groups.groupForChat(chat);
    if (other) return { boundTo: other.folder };
    groups.bind(main.folder, chat);
    return 'bound' as const;
  });
}
