// ESLint for the TypeScript in src/ and test/ and the scripts beside them (typescript-eslint's
// recommended rules). Formatting is Prettier's job (`npm run format:check`), so no style rules here.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.bench/', 'certs/', 'records/', 'captures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_`-prefixed names mark a parameter or binding kept on purpose (an interface's signature, a skipped tuple slot).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // A callback whose own `this` is used (prom-client's collect, a named timer callback) reaches the outer object by name.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self', 'metrics'] }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Tests read JSON answers and records whose shape is what they assert; `any` there is the honest type.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
