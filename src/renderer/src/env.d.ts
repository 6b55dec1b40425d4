/// <reference types="vite/client" />
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}
/** Monaco's TypeScript mode, loaded only for its side effects (editor/monaco.ts). */
declare module 'monaco-editor/languages/features/typescript/tsMode.js';
