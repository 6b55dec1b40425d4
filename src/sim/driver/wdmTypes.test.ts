import { readFileSync, writeFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { WDM_CONSTANTS as W } from '../kernel/wdmConstants';
import { IRQL } from './hostApi';
import { generateWdmDts } from './wdmTypes';

const surface = readFileSync('src/sim/driver/guest/wdm.ts', 'utf8');
const checkedIn = 'labs/wdm.d.ts';

describe('wdm.d.ts', () => {
  const generated = generateWdmDts(surface);
  if (process.env.UPDATE_WDM_TYPES === '1') writeFileSync(checkedIn, generated);

  it('is up to date with the surface (UPDATE_WDM_TYPES=1 npx vitest run src/sim/driver/wdmTypes.test.ts rewrites it)', () => {
    expect(readFileSync(checkedIn, 'utf8')).toBe(generated);
  });

  it('declares globals only: no module syntax, no internals', () => {
    expect(generated).not.toMatch(/^export /m);
    expect(generated).not.toContain('__enter');
    expect(generated).toContain('declare function IoGetDmaAdapter(');
    expect(generated).toContain('interface DMA_OPERATIONS');
    expect(generated).toContain('declare const STATUS_SUCCESS: NTSTATUS;');
    expect(generated).toContain('/** 0xC000009A */\ndeclare const STATUS_INSUFFICIENT_RESOURCES: NTSTATUS;');
  });

  it('types a driver that uses the surface right and refuses one that does not', () => {
    const check = (driver: string) => {
      const files = new Map([
        ['wdm.d.ts', generated],
        ['driver.ts', driver],
      ]);
      const host = ts.createCompilerHost({});
      const read = host.getSourceFile.bind(host);
      host.getSourceFile = (name, version) => (files.has(name) ? ts.createSourceFile(name, files.get(name)!, version) : read(name, version));
      host.fileExists = (name) => files.has(name) || ts.sys.fileExists(name);
      const program = ts.createProgram(['wdm.d.ts', 'driver.ts'], { strict: true, noEmit: true, lib: ['lib.es2022.d.ts'], types: [] }, host);
      return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    };
    expect(
      check(`export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
        const mapRegisters = ref(0);
        DriverObject.MajorFunction[IRP_MJ_READ] = (d: DEVICE_OBJECT, irp: IRP) => { irp.IoStatus.Status = STATUS_SUCCESS; IoCompleteRequest(irp, IO_NO_INCREMENT); return STATUS_SUCCESS; };
        void mapRegisters; void RegistryPath;
        return NT_SUCCESS(STATUS_SUCCESS) ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
      }`),
    ).toEqual([]);
    const errors = check(`export function DriverEntry(DriverObject: DRIVER_OBJECT): NTSTATUS {
      const adapter = IoGetDmaAdapter(DriverObject, 5, ref(0));
      return adapter;
    }`);
    expect(errors.length).toBeGreaterThan(0);
  });

  // The JSDoc of every routine and callback: what the editor shows on hover and in signature help.
  const declared = new Map<string, string | null>();
  {
    const file = ts.createSourceFile('wdm.d.ts', generated, ts.ScriptTarget.ES2022, true);
    const jsDoc = (node: ts.Node): string | null => {
      const ranges = ts.getLeadingCommentRanges(generated, node.getFullStart()) ?? [];
      const last = ranges.filter((r) => generated.startsWith('/**', r.pos)).at(-1);
      if (!last) return null;
      return generated
        .slice(last.pos + 3, last.end - 2)
        .split('\n')
        .map((line) => line.replace(/^\s*\* ?/, '').trimEnd())
        .join('\n');
    };
    for (const statement of file.statements) {
      if (ts.isFunctionDeclaration(statement) && statement.name) declared.set(statement.name.text, jsDoc(statement));
      if (ts.isTypeAliasDeclaration(statement) && ts.isFunctionTypeNode(statement.type)) declared.set(statement.name.text, jsDoc(statement));
      if (ts.isInterfaceDeclaration(statement) && statement.name.text === 'DMA_OPERATIONS') {
        for (const member of statement.members) if (ts.isMethodSignature(member)) declared.set((member.name as ts.Identifier).text, jsDoc(member));
      }
    }
  }

  /** The "IRQL:" line hostApi's table implies, written as the WDK pages write it. */
  const irqlLine = (rule: { max: number; exact?: boolean }): string => {
    if (rule.max >= W.HIGH_LEVEL) return 'IRQL: any level';
    const level = { [W.PASSIVE_LEVEL]: 'PASSIVE_LEVEL', [W.APC_LEVEL]: 'APC_LEVEL', [W.DISPATCH_LEVEL]: 'DISPATCH_LEVEL' }[rule.max];
    expect(level, `IRQL ${rule.max}`).toBeDefined();
    return rule.exact || rule.max === W.PASSIVE_LEVEL ? `IRQL: ${level}` : `IRQL: <= ${level}`;
  };

  it("documents each routine of hostApi's IRQL table with the IRQL the table checks", () => {
    const wrong: string[] = [];
    for (const [name, rule] of Object.entries(IRQL)) {
      const lines = (declared.get(name) ?? '').split('\n').filter((line) => line.startsWith('IRQL:'));
      if (!declared.has(name)) wrong.push(`${name}: not declared in wdm.d.ts`);
      else if (lines.length !== 1 || lines[0] !== irqlLine(rule)) wrong.push(`${name}: has ${JSON.stringify(lines)}, table says "${irqlLine(rule)}"`);
    }
    expect(wrong).toEqual([]);
  });

  it('gives every routine and callback type a JSDoc with its IRQL and WDK page', () => {
    // Lab helpers with no WDK page of their own (C writes these as & and pointer dereferences).
    const labOnly = new Set(['ref', 'READ_MEMORY_UCHAR', 'READ_MEMORY_USHORT', 'READ_MEMORY_ULONG', 'WRITE_MEMORY_UCHAR', 'WRITE_MEMORY_USHORT', 'WRITE_MEMORY_ULONG']);
    expect(declared.size).toBeGreaterThan(80);
    const missing: string[] = [];
    for (const [name, doc] of declared) {
      if (doc === null) missing.push(`${name}: no JSDoc`);
      else if (!labOnly.has(name)) {
        if (!/^IRQL: \S/m.test(doc)) missing.push(`${name}: no IRQL line`);
        if (!/^WDK: \S/m.test(doc)) missing.push(`${name}: no WDK page`);
      }
    }
    expect(missing).toEqual([]);
    expect(declared.get('MapTransfer')).toContain('@param CurrentVa');
  });
});
