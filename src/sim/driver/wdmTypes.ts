import ts from 'typescript';
import { WDM_CONSTANTS } from '../kernel/wdmConstants';

// wdm.d.ts: the driver's ambient declarations, generated from the surface itself (the
// exports of guest/wdm.ts and the constants table), so that the editor's IntelliSense,
// the lab type check and the sandbox can never disagree. labs/wdm.d.ts is the checked-in
// copy; wdmTypes.test.ts fails when it is stale (UPDATE_WDM_TYPES=1 rewrites it).

const HIDDEN = new Set(['__enter', '__load']);

export function generateWdmDts(surfaceSource: string): string {
  const emitted = ts.transpileDeclaration(surfaceSource, { fileName: 'wdm.ts', compilerOptions: { declaration: true, isolatedDeclarations: true } });
  if ((emitted.diagnostics ?? []).length > 0) {
    throw new Error(`the wdm surface cannot be declared: ${ts.flattenDiagnosticMessageText(emitted.diagnostics![0]!.messageText, '\n')}`);
  }
  const source = ts.createSourceFile('wdm.d.ts', emitted.outputText, ts.ScriptTarget.ES2022, true);
  const parts: string[] = [];
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) continue;
    const name = (statement as { name?: ts.Identifier }).name?.text;
    if (name !== undefined && HIDDEN.has(name)) continue;
    let text = emitted.outputText.slice(statement.getFullStart(), statement.getEnd());
    text = text.replace(/^(\s*(?:\/\*\*[\s\S]*?\*\/\s*)?)export (declare )?/, (_m, lead: string) => `${lead}declare `);
    text = text.replace(/declare (type|interface) /, '$1 ');
    parts.push(text.replace(/^\n+/, ''));
  }
  const constants = Object.entries(WDM_CONSTANTS).map(([name, value]) => `/** ${describe(value)} */\ndeclare const ${name}: ${typeOf(name, value)};`);
  return [
    '// wdm.d.ts: what a DMA Lab driver sees, as if wdm.h were included. Generated from the',
    '// simulator\'s `wdm` surface (src/sim/driver/guest/wdm.ts) and its constants; do not edit.',
    '',
    ...parts,
    '',
    '// Constants (wdm.h values).',
    ...constants,
    '',
  ].join('\n');
}

const ALLOCATION_ACTIONS = new Set(['KeepObject', 'DeallocateObject', 'DeallocateObjectKeepRegisters']);

/** The C type of a wdm.h constant, as the driver's variables will hold it. */
function typeOf(name: string, value: number | boolean): string {
  if (typeof value === 'boolean') return 'boolean';
  if (name.startsWith('STATUS_')) return 'NTSTATUS';
  if (name.endsWith('_LEVEL')) return 'KIRQL';
  if (ALLOCATION_ACTIONS.has(name)) return 'IO_ALLOCATION_ACTION';
  return 'number';
}

function describe(value: number | boolean): string {
  if (typeof value === 'boolean') return String(value).toUpperCase();
  return value < 0 || value > 9 ? `0x${(value >>> 0).toString(16).toUpperCase()}` : String(value);
}
