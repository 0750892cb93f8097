import js from '@eslint/js';
import ts from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import { CONTRACT_ONLY, forbiddenFor, LAYERS } from './scripts/lib/layers.mjs';

export default ts.config(
  { ignores: ['dist/', 'node_modules/', 'dev-dist/', 'tests/fixtures/', 'public/', '.cache/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.browser, ...globals.node, ...globals.serviceworker, __APP_VERSION__: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    // src/lib runs anywhere: no DOM globals there (the embed client only needs MessageChannel).
    files: ['src/lib/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', 'document', 'window', 'localStorage', 'sessionStorage', 'alert'],
    },
  },
  // src/lib's layers (src/lib/README.md): a folder imports only its own and lower layers. This catches static
  // imports as they are written; tests/unit/layers.test.ts also checks dynamic ones and cycles.
  ...Object.keys(LAYERS).map((folder) => ({
    files: [`src/lib/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(\\.\\./)+(${forbiddenFor(folder).join('|')})(/|$)`,
              message: `src/lib/${folder} may import only its own folder and lower layers (src/lib/README.md).`,
            },
            ...(CONTRACT_ONLY[folder]
              ? [
                  {
                    regex: `^(\\.\\./)+(${CONTRACT_ONLY[folder].join('|')})/(?!contract$)`,
                    message: `src/lib/${folder} reads the engines through their contract.ts only (src/lib/README.md).`,
                  },
                ]
              : []),
          ],
        },
      ],
    },
  })),
);
