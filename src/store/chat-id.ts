import { z } from 'zod';

// A leaf module (zod only): the web channel validates chat ids with it, and channel modules are
// evaluated while config/schema.ts composes the channel blocks.

/** A chat id: `<channel>:<id>`. */
export const chatIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9]{0,15}:\S{1,512}$/, 'a chat id of the form <channel>:<id>, e.g. web:main');
