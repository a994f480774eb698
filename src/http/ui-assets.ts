import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';

/**
 * The built Control UI (`npm run build` → `dist/web/`): `index.html` and the hashed files
 * under `assets/`. From `src/http/` and `dist/http/` alike the package root is two levels up.
 */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
};

/** What `/` says when the UI was not built (a checkout without `npm run build`). */
const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>clawpod</title></head><body>
<h1>clawpod is running</h1>
<p>The Control UI has not been built in this checkout. Run <code>npm run build</code> (or
<code>npm ci</code>) and reload. The HTTP API and the <code>clawpod</code> command work meanwhile.</p>
</body></html>`;

/** The files of one build, read once (they never change while the daemon runs). */
interface Build {
  index: string | undefined;
  assets: Map<string, { body: Buffer; type: string }>;
}

function load(dir: string): Build {
  const assets = new Map<string, { body: Buffer; type: string }>();
  const indexFile = join(dir, 'index.html');
  if (!existsSync(indexFile)) return { index: undefined, assets };
  const assetDir = join(dir, 'assets');
  const names = existsSync(assetDir) ? readdirSync(assetDir) : [];
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (type && /^[A-Za-z0-9._-]+$/.test(name))
      assets.set(name, { body: readFileSync(join(assetDir, name)), type });
  }
  return { index: readFileSync(indexFile, 'utf8'), assets };
}

/**
 * Serves the Control UI: `/` answers `index.html` with `no-cache` (views are `#/…` routes); `/assets/<hashed name>` answers the file with a year of
 * immutable caching. No data and no token are in any of them. Without a build, `/` explains how
 * to make one.
 */
export function mountUiAssets(app: Hono, dir = DEFAULT_UI_DIR): void {
  let build: Build | undefined;
  const get = () => (build ??= load(dir));
  app.get('/assets/:name', (c) => {
    const file = get().assets.get(c.req.param('name'));
    if (!file) return c.notFound();
    return c.body(new Uint8Array(file.body), 200, {
      'content-type': file.type,
      'cache-control': 'public, max-age=31536000, immutable',
    });
  });
  app.get('/', (c) => {
    c.header('cache-control', 'no-cache');
    return c.html(get().index ?? NOT_BUILT);
  });
}
