// Lint, including DESIGN.md's layering: imports point downward only.
//   shared   imports nothing of ours and no Node, Electron or DOM module
//   sim      imports only shared; no Node, Electron, DOM, wall clock or Math.random
//   preload  imports only shared (and electron)
//   renderer imports only shared (and its own libraries); never sim or main
//   main     never renderer, preload or cli; cli never renderer or preload
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import pluginVue from 'eslint-plugin-vue';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const src = (layer) => `./src/${layer}`;
const layering = (target, forbidden, message) => ({
  target: src(target),
  from: forbidden.map(src),
  message,
});

const noNodeOrElectron = {
  'import-x/no-nodejs-modules': 'error',
  'no-restricted-imports': [
    'error',
    { paths: [{ name: 'electron', message: 'Only src/main and src/preload may use Electron.' }], patterns: ['electron/*'] },
  ],
};

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', '.electron-abi/**', '.shots/**', 'artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.vue', '.js', '.mjs', '.json'] })],
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            layering('shared', ['sim', 'main', 'preload', 'renderer', 'cli'], 'src/shared is contracts only and imports nothing of ours (Bad layering).'),
            layering('sim', ['main', 'preload', 'renderer', 'cli'], 'src/sim may import only src/shared (Bad layering).'),
            layering('preload', ['sim', 'main', 'renderer', 'cli'], 'The preload may import only src/shared (Bad layering).'),
            layering('renderer', ['sim', 'main', 'preload', 'cli'], 'The renderer reaches the app only through the typed API in src/shared (Bad layering).'),
            layering('main', ['renderer', 'preload', 'cli'], 'src/main may import src/sim and src/shared only (Bad layering).'),
            layering('cli', ['renderer', 'preload'], 'The CLI may import src/sim, src/shared and main services only (Bad layering).'),
          ],
        },
      ],
    },
  },
  {
    files: ['src/main/**/*.ts', 'src/cli/**/*.ts', 'scripts/**/*.mjs', 'bin/**/*.mjs', 'e2e/**/*.ts', '*.config.{js,ts}', 'vitePlugins.ts'],
    languageOptions: { globals: globals.node },
  },
  { files: ['src/renderer/**/*.{ts,vue}'], languageOptions: { globals: globals.browser } },
  {
    files: ['src/renderer/**/*.{ts,vue}'],
    ignores: ['**/*.test.ts'],
    rules: noNodeOrElectron,
  },
  {
    files: ['src/shared/**/*.ts', 'src/sim/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      ...noNodeOrElectron,
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'fetch', 'XMLHttpRequest', 'WebSocket', 'process', 'Buffer', 'require', '__dirname'].map((name) => ({
          name,
          message: 'src/shared and src/sim run anywhere: no DOM, Node or host globals.',
        })),
      ],
    },
  },
  {
    files: ['src/sim/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'navigator', 'fetch', 'process', 'Buffer', 'require', 'performance'].map((name) => ({ name, message: 'src/sim runs anywhere: no DOM, Node or host globals.' })),
        ...['Date', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'requestAnimationFrame'].map((name) => ({
          name,
          message: 'src/sim is deterministic: simulated time only (use the scheduler).',
        })),
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'src/sim is deterministic: use the seeded generator.' },
        { object: 'Date', property: 'now', message: 'src/sim is deterministic: simulated time only.' },
        { object: 'performance', property: 'now', message: 'src/sim is deterministic: simulated time only.' },
      ],
    },
  },
);
