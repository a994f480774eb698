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
  // ---------------------------------------------------------------------------------------
  // Walls of the store and of the schedule maths (house #12). Kept in blocks of their own:
  // flat config does not merge one rule's options across blocks, so a later block that sets
  // `no-restricted-imports` (or `no-restricted-syntax`) for these same files replaces these
  // rules there. Add a wall for other folders with file globs that do not overlap these.
  //
  // store/ is a floor: it may import itself, config/ and protocol/ (and packages), nothing above.
  {
    files: ['src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(?!config/|protocol/|\\.\\./test/support/)',
              message:
                'store/ imports nothing above it (only ./, ../config, ../protocol): move the type down into store/ (or protocol/ when the agent shares it) and import it from there.',
            },
          ],
        },
      ],
    },
  },
  // schedule/ is pure maths on the ground floor: itself, zod and croner; no I/O, no other layer.
  {
    files: ['src/schedule/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\./|zod$|croner$|vitest$)',
              message:
                'schedule/ is pure maths: it imports only its own modules, zod and croner (no I/O, no other layer).',
            },
          ],
        },
      ],
    },
  },
  // Outside store/, the SQLite handle is off limits: go through the Store facade
  // (store.tasks, store.taskRuns, store.usage, store.tx, store.txImmediate…). Tests may still
  // reach store.db to inject a state.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/store/**', 'src/**/*.test.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportDeclaration[source.value=/(^|\\/)store\\/db\\.js$/]',
          message: 'The db handle belongs to store/: use the Store facade.',
        },
        {
          selector: "MemberExpression[property.name='db'][object.name='store']",
          message:
            'The db handle belongs to store/: use the Store facade (store.tasks, store.tx…).',
        },
        {
          selector: "MemberExpression[property.name='db'][object.property.name='store']",
          message:
            'The db handle belongs to store/: use the Store facade (store.tasks, store.tx…).',
        },
      ],
    },
  },
  // The channel wall (house #12): core code reaches channels only through their contract
  // (channels/channel.ts), the kit (channels/kit/), the explicit list (channels/index.ts) and the
  // shared helpers beside them; never a channel's own folder or the web channel's file, not even
  // for a type. A new channel plugs in by joining the list; the core never learns its name.
  // Uses the typescript-eslint rule, so it stacks with the base `no-restricted-imports` walls
  // above instead of replacing them; do not set that rule name again for core files.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/channels/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)channels/(?!kit/)[^/]+/',
              message:
                'core code must not import a channel folder: use channels/channel.ts, channels/kit or builtinChannels (channels/index.ts)',
            },
            {
              regex: '(^|/)channels/web(\\.js)?$',
              message: 'core code must not import the web channel: use builtinChannels',
            },
          ],
        },
      ],
    },
  },
  // Modules evaluated while config/schema.ts composes the channel blocks (the list, each
  // channel's index, the web channel, the contract): a value import of config/schema.ts (or of
  // a module importing it) would be a cycle that breaks at load. Types are fine.
  {
    files: [
      'src/channels/index.ts',
      'src/channels/*/index.ts',
      'src/channels/web.ts',
      'src/channels/channel.ts',
      'src/channels/checks.ts',
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(config/(load|schema|index)|store/group-schema)(\\.js)?$',
              allowTypeImports: true,
              message:
                'a channel settings module loads while config/schema.ts is evaluated: import config/secret.ts (or a type) instead',
            },
          ],
        },
      ],
    },
  },
  // ---------------------------------------------------------------------------------------
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
