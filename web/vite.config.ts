import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The Control UI build: `web/` → `dist/web/` (index.html + hashed assets), served by the
 * daemon itself (src/http/ui-assets.ts). No CDN, no inline script (the page's CSP forbids it).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill would be an extra script; every browser the UI targets has modulepreload.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
