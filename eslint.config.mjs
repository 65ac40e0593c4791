// Lint: typescript-eslint's recommended rules on sources and tests; generated code excluded.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // deploy/: a mongosh script, not Node code.
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'packages/proto/gen/**',
      '.infra/**',
      '**/*.mjs',
      '**/*.cjs',
      'deploy/**/*.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
