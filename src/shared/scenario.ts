import { z } from 'zod';

// A scenario is data: the machine, its devices, the workload, the faults and the
// checks that decide success (DESIGN.md, "Labs and scenarios"). Objects are strict so
// that a misspelt key is reported instead of silently ignored.

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** Where the pages of an IRP's buffer lie in physical memory. */
export const BufferPlacement = z.enum([
  'contiguous',
  'fragmented',
  'straddle-64k', // crosses a 64 KiB physical boundary, which the 8237 cannot
  'above-16m', // beyond the ISA address lines A0–A23
]);

export const MachineProfile = z.strictObject({
  memoryMiB: int(16, 256).default(64),
  /** x86 snoops DMA; a non-coherent cache needs KeFlushIoBuffers. */
  cache: z.enum(['coherent', 'non-coherent']).default('coherent'),
  /** Caps what IoGetDmaAdapter hands out in NumberOfMapRegisters; absent = the HAL's own choice. */
  mapRegisters: int(1, 256).optional(),
  /** A system DMA controller that buffers device-to-memory data (0: fly-by, as the 8237A). */
  controllerBufferBytes: int(0, 64).default(0),
});

const isaResources = {
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a lower-case name such as "fdc0"').optional(),
  port: int(0x100, 0x3ff).optional(),
  irq: int(0, 15).optional(),
};

export const DeviceConfig = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('floppy'),
    ...isaResources,
    channel: int(0, 3).default(2),
    /** Raw 1.44 MB image, relative to the scenario file; absent = a disk of zeros. */
    image: z.string().min(1).optional(),
  }),
  z.strictObject({
    type: z.literal('sound'),
    ...isaResources,
    // What the SB16's jumpers and mixer registers 80h/81h can select.
    port: int(0x200, 0x2f0)
      .refine((p) => (p & 0x0f) === 0, 'a base port of the form 2x0h, such as 0x220')
      .optional(),
    irq: z
      .union([z.literal(2), z.literal(5), z.literal(7), z.literal(10)], { error: 'IRQ 2, 5, 7 or 10' })
      .optional(),
    channel8: z.union([z.literal(0), z.literal(1), z.literal(3)], { error: '8-bit DMA channel 0, 1 or 3' }).default(1),
    channel16: z.union([z.literal(5), z.literal(6), z.literal(7)], { error: '16-bit DMA channel 5, 6 or 7' }).default(5),
  }),
  z.strictObject({
    type: z.literal('scanner'),
    ...isaResources,
    channel: int(0, 7).refine((c) => c !== 4, 'channel 4 is the cascade and cannot serve a device').default(3),
    lineBytes: int(1, 65536).default(2048),
  }),
]);

export const IrpSpec = z.strictObject({
  major: z.enum(['read', 'write']),
  device: z.string().optional(),
  length: int(1, 16 * 1024 * 1024),
  /** Byte offset on the device (sector × 512 for the floppy). */
  offset: int(0, 0x7fffffff).default(0),
  buffer: z
    .strictObject({
      placement: BufferPlacement.default('contiguous'),
      byteOffset: int(0, 4095).default(0),
    })
    .default({ placement: 'contiguous', byteOffset: 0 }),
  /**
   * The status this IRP must complete with, where a fault makes it differ from the
   * irp-status check's own (STATUS_CRC_ERROR, STATUS_IO_TIMEOUT, …). An IRP expected to
   * fail has no data for the data-integrity check, and any Information.
   */
  expect: z.string().regex(/^STATUS_[A-Z_]+$/, 'an NTSTATUS name such as "STATUS_IO_TIMEOUT"').optional(),
});

export const FaultSpec = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('io-error'), device: z.string().optional(), atByte: int(0, 0x7fffffff) }),
  z.strictObject({
    kind: z.literal('no-interrupt'),
    device: z.string().optional(),
    /**
     * Absent: the device never raises its interrupt. Given (the floppy only): once, after this
     * many data bytes of the run, the transfer under way stops and never ends, until a reset.
     */
    atByte: int(0, 0x7fffffff).optional(),
  }),
  z.strictObject({ kind: z.literal('spurious-interrupt'), irq: int(0, 15), atNs: int(0, Number.MAX_SAFE_INTEGER) }),
  z.strictObject({ kind: z.literal('slow-device'), device: z.string().optional(), factor: z.number().min(1).max(1000) }),
]);

export const CheckSpec = z.discriminatedUnion('kind', [
  /** The data that arrived matches, byte for byte, on the device and in memory. */
  z.strictObject({ kind: z.literal('data-integrity') }),
  /** Every IRP completed with this status (and Information = length on success). */
  z.strictObject({ kind: z.literal('irp-status'), status: z.string().regex(/^STATUS_[A-Z_]+$/).default('STATUS_SUCCESS') }),
  z.strictObject({ kind: z.literal('no-violations') }),
  /** Adapter, common buffers, map registers, interrupts released by REMOVE_DEVICE. */
  z.strictObject({ kind: z.literal('resources-released') }),
  /** IoGetDmaAdapter was given a DEVICE_DESCRIPTION that matches the device. */
  z.strictObject({ kind: z.literal('adapter-description') }),
  z.strictObject({ kind: z.literal('no-underrun') }),
  /**
   * The workload's bytes, over the simulated time from the first IRP to the last completion,
   * reach this rate (bytes of IRPs that succeeded, in KiB per second).
   */
  z.strictObject({ kind: z.literal('throughput'), minKiBPerSec: z.number().positive() }),
]);

/** A device's name in checks and traces: its own, or its type and position. */
export function deviceName(d: { name?: string | undefined; type: string }, index: number): string {
  return d.name ?? `${d.type}${index}`;
}

/** Ports, DMA channels and IRQ each device takes, defaults applied (see labs/devices/). */
export function deviceResources(d: z.output<typeof DeviceConfig>): { ports: [number, number]; channels: number[]; irq: number } {
  switch (d.type) {
    case 'floppy':
      return { ports: [d.port ?? 0x3f0, (d.port ?? 0x3f0) + 7], channels: [d.channel], irq: d.irq ?? 6 };
    case 'sound':
      return { ports: [d.port ?? 0x220, (d.port ?? 0x220) + 15], channels: [d.channel8, d.channel16], irq: d.irq ?? 5 };
    case 'scanner':
      return { ports: [d.port ?? 0x300, (d.port ?? 0x300) + 7], channels: [d.channel], irq: d.irq ?? 10 };
  }
}

export const Scenario = z.strictObject({
  title: z.string().min(1).optional(),
  machine: MachineProfile.default({ memoryMiB: 64, cache: 'coherent', controllerBufferBytes: 0 }),
  devices: z.array(DeviceConfig).min(1, 'a scenario needs at least one device'),
  workload: z.array(IrpSpec).default([]),
  faults: z.array(FaultSpec).default([]),
  checks: z.array(CheckSpec).min(1, 'a scenario needs at least one check'),
  /**
   * What a verifier finding does: 'bugcheck' stops the run as Driver Verifier does (bug check
   * 0xE6 and the others Windows raises); 'teaching' reports it and lets the run go on, so the
   * consequence shows in the data. The lab's own rules are reported in both modes.
   */
  verifier: z.enum(['bugcheck', 'teaching']).default('bugcheck'),
  /** Simulated-time budget for the whole run. */
  timeLimitMs: z.number().positive().max(600_000).default(10_000),
}).superRefine((scenario, ctx) => {
  // ISA resources cannot be shared: two devices on one port, channel or (edge-triggered) IRQ clash.
  const seen = { name: new Map<string, number>(), channel: new Map<number, number>(), irq: new Map<number, number>() };
  const taken: { range: [number, number]; index: number }[] = [];
  scenario.devices.forEach((d, index) => {
    const name = deviceName(d, index);
    const { ports, channels, irq } = deviceResources(d);
    const clash = (key: keyof typeof seen, value: string | number, path: string, what: string) => {
      const other = (seen[key] as Map<string | number, number>).get(value);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['devices', index, path], message: `${what} is already used by devices[${other}]` });
      else (seen[key] as Map<string | number, number>).set(value, index);
    };
    clash('name', name, 'name', `the name "${name}"`);
    for (const c of channels) {
      // Floppy controllers float DRQ behind the DOR's DMA gate, so two may share a channel
      // (the adapter object decides whose turn it is); other cards drive DREQ all the time.
      const other = seen.channel.get(c);
      if (d.type === 'floppy' && other !== undefined && scenario.devices[other]!.type === 'floppy') continue;
      clash('channel', c, d.type === 'sound' ? (c < 4 ? 'channel8' : 'channel16') : 'channel', `DMA channel ${c}`);
    }
    clash('irq', irq, 'irq', `IRQ ${irq}`);
    const overlap = taken.find((t) => t.range[0] <= ports[1] && ports[0] <= t.range[1]);
    if (overlap) ctx.addIssue({ code: 'custom', path: ['devices', index, 'port'], message: `ports 0x${ports[0].toString(16)}–0x${ports[1].toString(16)} overlap devices[${overlap.index}]` });
    taken.push({ range: ports, index });
  });
  // A transfer that stops at a byte and waits for a reset is modelled for the floppy only.
  scenario.faults.forEach((f, index) => {
    if (f.kind !== 'no-interrupt' || f.atByte === undefined) return;
    const target = f.device === undefined ? scenario.devices[0] : scenario.devices.find((d, i) => deviceName(d, i) === f.device);
    if (target !== undefined && target.type !== 'floppy') {
      ctx.addIssue({ code: 'custom', path: ['faults', index, 'atByte'], message: `no-interrupt at a byte is modelled for the floppy only, not the ${target.type}` });
    }
  });
});

export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;
