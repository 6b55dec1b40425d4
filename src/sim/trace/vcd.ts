import { AT_DMA_TIMING } from '../hw/isaDma';
import { dma1Config, dma2Config, type I8237Config, MODE_CASCADE, MODE_DECREMENT, MODE_MODE_MASK } from '../hw/i8237';
import { checkpoint, type Exporter, TextBuffer } from './export';
import type { TraceRecorder } from './recorder';
import { DmaRegister, EventKind } from './sink';

// The VCD exporter (DESIGN.md, "Traces"): the machine's wires and the 8237s' counters as
// signals that GTKWave and sigrok (sigrok-cli, PulseView) read.
//
//   dma1  DREQ0–3, DACK0–3, TC0–3, then addr0/count0 … for the channels in use
//   dma2  DREQ4–7, DACK4–7, TC4–7, addr4/count4 …
//   pic   IRQ0–IRQ15, the bus IRQ lines as the devices drive them
//   cpu   IRQL (5 bits)
//
// addrN and countN are channel N's current address and current count registers as the
// controller holds them (16 bits each; words on channels 5–7; the count is transfers left
// less one, FFFFh after a terminal count). They are derived from the events: register writes
// set them, a burst advances the address by its transfers (down in decrement mode, bit 5 of
// the mode) and lowers the count, auto-initialize reloads the base values (which follow the
// bytes written, placed by the chip's byte pointer as the port events move it). Only the
// channels the trace programs (address, count or a mode other than cascade) or moves data
// on get them. TCn is a pulse of one DMA clock (AT_DMA_TIMING.clockNs, 250 ns on the AT), as
// the 8237A drives EOP for one clock with the last transfer.
//
// libsigrok's VCD reader (0.5.2) takes only 1-bit signals and silently drops the rest of a
// 4 MiB input chunk at the first vector, so buses go bit by bit by default (`addr2 [15]` …
// `addr2 [0]`, which GTKWave regroups), as vectors when options.vcdBuses is 'vector'. One
// value change per line, changes at one time under one `#t` with times strictly
// increasing, nothing but changes and timestamps after $enddefinitions, names unique even
// without their scopes (sigrok ignores scopes), and a closing timestamp so that the last
// state lasts. Times are whole nanoseconds; events at time 0 are part of the $dumpvars.

/** How long TCn stays high after a terminal count, in ns. */
export const TC_PULSE_NS = AT_DMA_TIMING.clockNs;

interface Signal {
  /** The name in its scope; bits of a bus get ` [i]` after it. */
  readonly name: string;
  readonly width: number;
  /** One identifier, or one per bit (index = bit) for a bus written bit by bit. */
  readonly ids: string[];
  value: number;
  /** The value the file shows so far. */
  written: number;
  dirty: boolean;
}

/** VCD identifiers: printable ASCII from '!' to '~', more characters after 94. */
function identifier(n: number): string {
  let id = '';
  do {
    id += String.fromCharCode(33 + (n % 94));
    n = Math.floor(n / 94) - 1;
  } while (n >= 0);
  return id;
}

/** The channels that have an address and count bus: programmed or moving data. */
function channelsInUse(trace: TraceRecorder): boolean[] {
  const used: boolean[] = new Array<boolean>(8).fill(false);
  trace.forEach((_time, kind, a, b, c) => {
    if (a < 0 || a > 7) return;
    if (kind === EventKind.DmaBurst || kind === EventKind.TerminalCount || kind === EventKind.AutoInitialize) used[a] = true;
    else if (kind === EventKind.DmaRegisterWrite) {
      if (b === DmaRegister.Address || b === DmaRegister.Count || (b === DmaRegister.Mode && (c & MODE_MODE_MASK) !== MODE_CASCADE)) used[a] = true;
    }
  });
  return used;
}

/** The 8237 register a port selects (0–15), or -1 when the port is not the chip's. */
function registerOf(config: I8237Config, port: number): number {
  const last = config.base + (0x0f << config.portShift);
  return port >= config.base && port <= last ? (port - config.base) >> config.portShift : -1;
}

const CHIPS = [dma1Config, dma2Config];
const CLEAR_BYTE_POINTER = 0x0c;
const MASTER_CLEAR = 0x0d;

export const exportVcd: Exporter = (trace, context, out, options = {}) => {
  const vector = options.vcdBuses === 'vector';
  const total = trace.count;
  const used = channelsInUse(trace);

  const signal = (name: string, width: number): Signal => ({ name, width, ids: [], value: 0, written: 0, dirty: false });
  const dreq: Signal[] = [];
  const dack: Signal[] = [];
  const tc: Signal[] = [];
  const addr: (Signal | null)[] = [];
  const count: (Signal | null)[] = [];
  for (let ch = 0; ch < 8; ch++) {
    dreq.push(signal(`DREQ${ch}`, 1));
    dack.push(signal(`DACK${ch}`, 1));
    tc.push(signal(`TC${ch}`, 1));
    addr.push(used[ch] ? signal(`addr${ch}`, 16) : null);
    count.push(used[ch] ? signal(`count${ch}`, 16) : null);
  }
  const irq = Array.from({ length: 16 }, (_, n) => signal(`IRQ${n}`, 1));
  const irql = signal('IRQL', 5);
  const chip = (first: number): Signal[] => {
    const channels = [0, 1, 2, 3].map((i) => first + i);
    return [...channels.map((ch) => dreq[ch]!), ...channels.map((ch) => dack[ch]!), ...channels.map((ch) => tc[ch]!), ...channels.flatMap((ch) => (used[ch] ? [addr[ch]!, count[ch]!] : []))];
  };
  const scopes: [string, Signal[]][] = [
    ['dma1', chip(0)],
    ['dma2', chip(4)],
    ['pic', irq],
    ['cpu', [irql]],
  ];

  const text = new TextBuffer(out);
  text.push('$version DMA Lab $end\n');
  text.push(
    `$comment DMA Lab trace: ${total} events. TCn pulses last ${TC_PULSE_NS} ns; addrN and countN are the 8237 channel's current address and count registers. $end\n`,
  );
  text.push('$timescale 1 ns $end\n');
  let next = 0;
  for (const [scope, signals] of scopes) {
    text.push(`$scope module ${scope} $end\n`);
    for (const s of signals) {
      if (s.width === 1 || vector) {
        s.ids.push(identifier(next++));
        text.push(s.width === 1 ? `$var wire 1 ${s.ids[0]} ${s.name} $end\n` : `$var reg ${s.width} ${s.ids[0]} ${s.name} [${s.width - 1}:0] $end\n`);
      } else {
        for (let bit = s.width - 1; bit >= 0; bit--) {
          s.ids[bit] = identifier(next++);
          text.push(`$var wire 1 ${s.ids[bit]} ${s.name} [${bit}] $end\n`);
        }
      }
    }
    text.push('$upscope $end\n');
  }
  text.push('$enddefinitions $end\n');

  /** Lines for a signal going from `written` to `value` (`all`: every bit, for $dumpvars). */
  const change = (s: Signal, all = false): void => {
    if (s.width === 1) text.push(`${s.value}${s.ids[0]}\n`);
    else if (vector) text.push(`b${s.value.toString(2)} ${s.ids[0]}\n`);
    else {
      const bits = all ? 0xffff : s.value ^ s.written;
      for (let bit = s.width - 1; bit >= 0; bit--) if ((bits >>> bit) & 1) text.push(`${(s.value >>> bit) & 1}${s.ids[bit]}\n`);
    }
    s.written = s.value;
  };

  // The changes at the time being gathered, written when time moves on: a signal that
  // changes and changes back within one nanosecond shows no change.
  const dirty: Signal[] = [];
  let groupTime = 0;
  let lastWritten = 0;
  let started = false;
  const set = (s: Signal, value: number): void => {
    if (s.value === value) return;
    s.value = value;
    if (!s.dirty) {
      s.dirty = true;
      dirty.push(s);
    }
  };
  const flush = (): void => {
    if (!started) {
      // Time 0: every signal's initial value, after the events at time 0.
      text.push('#0\n$dumpvars\n');
      for (const [, signals] of scopes) for (const s of signals) change(s, true);
      text.push('$end\n');
      started = true;
    } else {
      let stamped = false;
      for (const s of dirty) {
        if (s.value === s.written) continue;
        if (!stamped) {
          text.push(`#${groupTime}\n`);
          stamped = true;
          lastWritten = groupTime;
        }
        change(s);
      }
    }
    for (const s of dirty) s.dirty = false;
    dirty.length = 0;
  };
  const advance = (time: number): void => {
    if (time <= groupTime) return;
    flush();
    groupTime = time;
  };

  // TC pulses that are still high: when each falls (-1: low).
  const tcFall: number[] = new Array<number>(8).fill(-1);
  let pulses = 0;
  /** Ends the TC pulses due by `time`, in time order. */
  const endPulses = (time: number): void => {
    while (pulses > 0) {
      let ch = -1;
      for (let i = 0; i < 8; i++) if (tcFall[i]! >= 0 && tcFall[i]! <= time && (ch < 0 || tcFall[i]! < tcFall[ch]!)) ch = i;
      if (ch < 0) return;
      advance(tcFall[ch]!);
      set(tc[ch]!, 0);
      tcFall[ch] = -1;
      pulses--;
    }
  };

  // The controllers' hidden state: base registers, modes, and each chip's byte pointer.
  const baseAddress: number[] = new Array<number>(8).fill(0);
  const baseCount: number[] = new Array<number>(8).fill(0);
  const mode: number[] = new Array<number>(8).fill(0);
  const highByte = [false, false];
  /** A byte written to an address or count register goes into base and current alike (§5). */
  const loadBase = (base: number[], ch: number, value: number): void => {
    const high = highByte[ch >> 2]!;
    highByte[ch >> 2] = !high;
    base[ch] = high ? (base[ch]! & 0x00ff) | (value & 0xff00) : (base[ch]! & 0xff00) | (value & 0x00ff);
  };
  const touchBytePointer = (port: number, read: boolean): void => {
    for (let c = 0; c < 2; c++) {
      const reg = registerOf(CHIPS[c]!, port);
      if (reg < 0) continue;
      if (read && reg < 8) highByte[c] = !highByte[c]; // reading an address or count moves the pointer too
      if (!read && (reg === CLEAR_BYTE_POINTER || reg === MASTER_CLEAR)) highByte[c] = false;
    }
  };

  const visit = (t: number, kind: EventKind, a: number, b: number, c: number, index: number): void => {
    checkpoint(out, index, total);
    const time = Math.max(groupTime, Math.round(t));
    endPulses(time);
    advance(time);
    switch (kind) {
      case EventKind.Dreq:
        if (a >= 0 && a < 8) set(dreq[a]!, b ? 1 : 0);
        break;
      case EventKind.Dack:
        if (a >= 0 && a < 8) set(dack[a]!, b ? 1 : 0);
        break;
      case EventKind.IrqLine:
        if (a >= 0 && a < 16) set(irq[a]!, b ? 1 : 0);
        break;
      case EventKind.Irql:
        set(irql, a & 0x1f);
        break;
      case EventKind.TerminalCount:
        if (a < 0 || a > 7) break;
        set(tc[a]!, 1);
        if (tcFall[a]! < 0) pulses++;
        tcFall[a] = time + TC_PULSE_NS;
        if (count[a]) set(count[a], 0xffff);
        break;
      case EventKind.AutoInitialize:
        if (a < 0 || a > 7) break;
        if (addr[a]) set(addr[a], baseAddress[a]!);
        if (count[a]) set(count[a], baseCount[a]!);
        break;
      case EventKind.DmaBurst: {
        const ad = addr[a];
        const co = count[a];
        if (!ad || !co) break;
        const transfers = a < 4 ? c >>> 0 : (c >>> 0) >>> 1;
        set(ad, (ad.value + ((mode[a]! & MODE_DECREMENT) !== 0 ? -transfers : transfers)) & 0xffff);
        set(co, (co.value - transfers) & 0xffff);
        break;
      }
      case EventKind.DmaRegisterWrite:
        if (a < 0 || a > 7) break; // chip-wide registers (-1, -2); page registers are not shown
        if (b === DmaRegister.Mode) mode[a] = c;
        else if (b === DmaRegister.Address) {
          loadBase(baseAddress, a, c);
          set(addr[a]!, c & 0xffff);
        } else if (b === DmaRegister.Count) {
          loadBase(baseCount, a, c);
          set(count[a]!, c & 0xffff);
        }
        break;
      case EventKind.PortRead:
        touchBytePointer(a, true);
        break;
      case EventKind.PortWrite:
        touchBytePointer(a, false);
        break;
    }
  };
  trace.forEach(visit);

  endPulses(Infinity);
  flush();
  // The closing timestamp: the end of the run, or just after the last event.
  const end = Math.round(context.endTime);
  text.push(`#${end > lastWritten ? end : Math.max(lastWritten, groupTime) + 1}\n`);
  text.flush();
  out.progress?.(total, total);
};
