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
  {
    files: ['**/*.mjs', 'bin/**'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', fetch: 'readonly' },
    },
  },
  // The channel wall: core code reaches channels only through their contract
  // (channels/channel.ts), the kit (channels/kit/), the explicit list (channels/index.ts) and the
  // shared helpers beside them, never a channel's own folder or the web channel's file. A new
  // channel plugs in by joining the list; the core never learns its name.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/channels/**'],
    rules: {
      'no-restricted-imports': [
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
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression > Literal[value=/(^|\\/)channels\\/(?!kit\\/)[^/]+\\//]',
          message:
            'core code must not load a channel folder: go through its factory (builtinChannels)',
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
              regex: '(^|/)(config/(load|schema|index)|groups/group-schema)(\\.js)?$',
              allowTypeImports: true,
              message:
                'a channel settings module loads while config/schema.ts is evaluated: import config/secret.ts (or a type) instead',
            },
          ],
        },
      ],
    },
  },
);
