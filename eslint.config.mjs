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
    // The CLI's bin shim: plain CommonJS run by node before anything is compiled.
    files: ['packages/cli/bin/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', __dirname: 'readonly', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
