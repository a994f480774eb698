import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['src/cli/**', 'bench/**', 'test/**', 'bin/**'],
    rules: { 'no-console': 'off' },
  },
  // ── The agent wall ──────────────────────────────────────────────────────────────────────
  // src/agent/** runs INSIDE the sandbox, bundled into one file (scripts/bundle-agent.mjs): it
  // may import its own files, node's modules, its libraries and src/protocol/, nothing else of
  // src/. A relative import that climbs out of src/agent must land in protocol/ (one block per
  // folder depth, since the import text is relative to the importing file).
  ...[1, 2, 3, 4].map((depth) => ({
    files: [`src/agent/${'*/'.repeat(depth - 1)}*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(\\.\\./){${depth}}(?!protocol/)`,
              message:
                'src/agent/ runs in the sandbox and may import only src/protocol/ from the rest of src/ (see eslint.config.js).',
            },
          ],
        },
      ],
    },
  })),
  // And the other side: the host reaches agent code only through the harness registry (the
  // specs: names, option schemas, credential checks, packages), never a harness's implementation.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/agent/**', 'src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '/agent/(?!harnesses/index\\.js$)',
              message:
                'The host imports from src/agent/ only agent/harnesses/index.js (the harness specs).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', 'bin/**'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', fetch: 'readonly' },
    },
  },
);
