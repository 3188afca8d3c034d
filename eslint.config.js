// Lint is part of `npm test`. Type-aware rules are left to `tsc --noEmit` (strict) to keep lint fast on 2 cores.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // assembly/kernels/ is AssemblyScript (f64/v128 types, @inline, load<T>): compiled by asc, not TypeScript.
  { ignores: ['node_modules/**', 'dist/**', 'build/**', 'coverage/**', 'bench/results/**', 'assembly/kernels/**', 'engine/strategy/fixtures/syntax-error.mjs', 'engine/strategy/fixtures/assemblyscript/**', 'examples/strategies/assemblyscript/**', 'assembly/strategy/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly',
        SharedArrayBuffer: 'readonly', Atomics: 'readonly', performance: 'readonly', URL: 'readonly',
        TextEncoder: 'readonly', TextDecoder: 'readonly', queueMicrotask: 'readonly', globalThis: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The dashboard's page runs in the browser.
    files: ['dashboard/web/**/*.ts'],
    languageOptions: {
      globals: {
        window: 'readonly', document: 'readonly', location: 'readonly', fetch: 'readonly', EventSource: 'readonly', MessageEvent: 'readonly',
        HTMLElement: 'readonly', HTMLDialogElement: 'readonly', Node: 'readonly', Element: 'readonly', HTMLElementTagNameMap: 'readonly',
      },
    },
  },
);
