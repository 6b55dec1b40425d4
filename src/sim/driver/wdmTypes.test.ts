import { readFileSync, writeFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
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
});
