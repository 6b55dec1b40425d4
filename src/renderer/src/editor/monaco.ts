import * as monaco from 'monaco-editor/editor/editor.api.js';
import 'monaco-editor/languages/definitions/typescript/register.js';
import { ModuleKind, ScriptTarget, typescriptDefaults } from 'monaco-editor/languages/features/typescript/register.js';
import EditorWorker from 'monaco-editor/editor/editor.worker.js?worker';
import TsWorker from 'monaco-editor/language/typescript/ts.worker.js?worker';
import wdmTypes from '../../../../labs/wdm.d.ts?raw';

// Only the editor core and the TypeScript language are loaded, and their workers come
// from the app's own files (no CDN), in Electron and in the browser alike.

self.MonacoEnvironment = {
  getWorker(_workerId: string, label: string) {
    return label === 'typescript' || label === 'javascript' ? new TsWorker() : new EditorWorker();
  },
};

// The driver's world is the WDK's declarations (labs/wdm.d.ts, generated from the
// simulator's surface) and ES2022: no DOM, no Node, as in the sandbox.
typescriptDefaults.setDiagnosticsOptions({ noSemanticValidation: false, noSyntaxValidation: false });
typescriptDefaults.setCompilerOptions({
  target: ScriptTarget.ES2020,
  module: ModuleKind.ESNext,
  lib: ['es2022'],
  strict: true,
  noEmit: true,
  allowNonTsExtensions: true,
});
typescriptDefaults.addExtraLib(wdmTypes, 'file:///wdm.d.ts');
// The TypeScript mode registers editor services as it loads (code lens, inlay hints, suggest
// memories, code actions), and Monaco fixes its services the first time one is asked for (a
// model made, an editor made): loaded later, the mode's would be missing. So this module, and
// the editor that imports it, is ready only once the mode has loaded.
await import('monaco-editor/languages/features/typescript/tsMode.js');
// Start the TypeScript language support (its mode and worker) now, while the lab loads,
// rather than when the driver's model is made.
monaco.editor.createModel('', 'typescript', monaco.Uri.parse('file:///warm-up.ts')).dispose();

export { monaco };

/** Drops every lab's driver model: imported progress replaces the code they hold, and the next open makes them again from it. */
export function forgetDriverModels(): void {
  for (const model of monaco.editor.getModels()) if (/^\/labs\/[^/]+\/driver\.ts$/.test(model.uri.path)) model.dispose();
}
