// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The folder dependency direction of docs/architecture.md: `core` depends on no other folder,
 * `state` on `core`, `windows` and `checkpoint` on `core` and `state`, and every cross-folder import
 * goes through one of the folder's barrels: `index.ts` (the application API, imported by package
 * name), `extend.ts` (the extension API) or `internal.ts` (what the package's other folders use).
 */
const BARRELS = ['index.js', 'extend.js', 'internal.js'];
const crossFolder = (folder) => ['../', '../../', '../../../'].flatMap((up) => [`${up}${folder}/*`, ...BARRELS.map((b) => `!${up}${folder}/${b}`)]);
const forbid = (...folders) => folders.flatMap((f) => [`../${f}/**`, `../../${f}/**`, `../../../${f}/**`, `../${f}/index.js`, `../../${f}/index.js`, `../../../${f}/index.js`]);
const rule = (message, group) => ['error', { patterns: [{ group, message }] }];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'bench/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      '@typescript-eslint/no-invalid-void-type': 'off',
      '@typescript-eslint/unified-signatures': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'Read time from the Clock (core/clock): only the clock module may read wall time.' }],
    },
  },
  {
    files: ['state/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: forbid('windows', 'checkpoint', 'test', 'examples'), message: 'state/ depends on core only (docs/architecture.md).' },
        { group: crossFolder('core'), message: 'state/ imports core only through its barrels ("sluice", core/extend.js, core/internal.js).' },
      ] }],
    },
  },
  {
    files: ['core/**/*.ts'],
    ignores: ['core/clock/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'level', message: 'core/ never imports LevelDB: declare a port in core and implement it in state/ or checkpoint/.' }, { name: 'classic-level', message: 'core/ never imports LevelDB.' }],
        patterns: [{ group: forbid('state', 'windows', 'checkpoint', 'test', 'examples'), message: 'core/ depends on no other folder; extensions plug in through its ports (docs/architecture.md).' }],
      }],
    },
  },
  {
    files: ['windows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: forbid('checkpoint', 'test', 'examples'), message: 'windows/ depends on core and state only (ARCHITECTURE section 2).' },
        { group: [...crossFolder('core'), ...crossFolder('state')], message: 'Import another folder only through its index.ts.' },
      ] }],
    },
  },
  {
    files: ['checkpoint/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: forbid('windows', 'test', 'examples'), message: 'checkpoint/ depends on core and state only (ARCHITECTURE section 2).' },
        { group: [...crossFolder('core'), ...crossFolder('state')], message: 'Import another folder only through its index.ts.' },
      ] }],
    },
  },
  {
    files: ['monitor/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ['sluice/windows', 'sluice/testing', 'sluice/postgres', 'sluice/nats', 'sluice/redis', 'sluice/mqtt'].map((name) => ({ name, message: 'monitor/ imports only "sluice", "sluice/state", "sluice/checkpoint" and "sluice/extend".' })),
        patterns: [{ group: forbid('core', 'state', 'windows', 'checkpoint', 'connectors', 'test', 'examples'), message: 'monitor/ uses only the package entry points ("sluice", "sluice/state", "sluice/checkpoint", "sluice/extend").' }],
      }],
    },
  },
  {
    files: ['ml/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: forbid('core', 'state', 'windows', 'checkpoint', 'connectors', 'monitor', 'test', 'examples'), message: 'ml/ uses only the package entry points ("sluice", "sluice/state", "sluice/extend").' }],
      }],
    },
  },
  {
    files: ['cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: forbid('test', 'examples'), message: 'cli/ uses the package, not its tests or examples.' },
        { group: [...crossFolder('core'), ...crossFolder('state'), ...crossFolder('windows'), ...crossFolder('checkpoint')], message: 'Import another folder only through its barrels (index.ts, extend.ts, internal.ts).' },
      ] }],
    },
  },
  {
    files: ['examples/**/*.ts'],
    rules: { 'no-restricted-imports': rule('examples/ use only the package entry points (import from "sluice", "sluice/state", ...).', forbid('core', 'state', 'windows', 'checkpoint', 'test')) },
  },
  {
    files: ['test/kit/**/*.ts'],
    rules: { 'no-restricted-imports': rule('The test kit uses only the public entry points ("sluice", "sluice/state", ...).', forbid('core', 'state', 'windows', 'checkpoint')) },
  },
  {
    files: ['test/**/*.ts', 'bench/**', 'examples/**', 'core/clock/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: { console: 'readonly', process: 'readonly' } } },
  {
    // The dashboard runs in the browser, where the wall clock is the only clock.
    files: ['monitor/assets/**/*.js'],
    rules: { 'no-restricted-syntax': 'off' },
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(['window', 'document', 'EventSource', 'Intl', 'setInterval', 'setTimeout', 'uPlot'].map((name) => [name, 'readonly'])),
    },
  },
);
