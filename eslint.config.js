// ESLint flat config: typescript-eslint's recommended rules, type-aware through the TypeScript
// project service (tsconfig.json for src/ and __tests__/, test/tsconfig.json for test/ and
// scripts/), tuned to this codebase's style. Formatting is Prettier's job, not ESLint's.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname
      }
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // `void promise` and fire-and-forget handlers on servers and child processes are deliberate.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // Template literals with numbers and other primitives are fine; objects are not.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: true }
      ]
    }
  },
  {
    // Tests, the fake Azure and scripts: `!` after lookups the test just seeded, `any` from
    // parsed JSON and SDK response bodies, and async jest callbacks without await are normal.
    files: ['__tests__/**', 'test/**', 'scripts/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off'
    }
  },
  {
    // scripts/*.ts belong to test/tsconfig.json, which the project service (nearest tsconfig.json
    // up the tree) would not find on its own.
    files: ['scripts/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: false, project: './test/tsconfig.json', tsconfigRootDir: import.meta.dirname }
    }
  },
  {
    // Plain JavaScript (this file, jest.config.js, scripts/*.mjs): no type information to check.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked
  }
)
