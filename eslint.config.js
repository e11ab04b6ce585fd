// ESLint flat config: typescript-eslint's recommended type-checked rules over the TypeScript
// sources, tests and benchmarks; the page's browser scripts (server/public/*.js) with browser
// globals. Every rule switched off or relaxed says why here and is listed in README "Tests".
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', '.tap/**', 'coverage/**', 'test/screenshots/**', 'client/dist/**'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      // A leading underscore marks a parameter a signature needs but the body does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Rows of the catalog queries are untyped pg results; the dump's output is checked whole
    // against sql/schema.sql by test/db/schema.test.ts.
    files: ['lib/schema-dump.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Tests and benchmarks read JSON bodies and messages (typed `any`) and assert on their
      // fields; the assertions are the check, typing each body first would add nothing.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // tap awaits the promise t.test() returns itself; subtests are written `async (t) =>`
      // whether or not they await, so the idiom stays the same when one starts to.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'before', 'after', 'teardown'], package: '@tapjs/test' }],
      }],
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['server/public/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
  {
    files: ['lib/cli/oriva.js', 'eslint.config.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: globals.node },
  },
);
