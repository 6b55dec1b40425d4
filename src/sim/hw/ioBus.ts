import { EventKind, type TraceSink } from '../trace/sink';

// The ISA I/O space: 64 K byte-wide ports. A device claims a range; a read of a port
// nobody decodes floats high (0xFF), a write to it is lost, and both are trace events,
// never exceptions.

export interface PortDevice {
  /** `port` is the absolute port number. */
  ioRead(port: number): number;
  ioWrite(port: number, value: number): void;
}

export interface Clock {
  readonly now: number;
}

const UNCLAIMED = 0;

export class IoBus {
  private readonly owner = new Uint16Array(0x10000);
  private readonly devices: (PortDevice | null)[] = [null];
  private readonly names: string[] = [''];

  constructor(
    private readonly clock: Clock,
    private readonly trace: TraceSink,
  ) {}

  /** Claims ports first..last for a device. Overlaps are a wiring mistake, reported at once. */
  map(first: number, last: number, device: PortDevice, name: string): void {
    if (first < 0 || last > 0xffff || first > last) throw new RangeError(`${name}: bad port range ${first}..${last}`);
    for (let p = first; p <= last; p++) {
      if (this.owner[p] !== UNCLAIMED) throw new Error(`${name}: port 0x${p.toString(16)} is already decoded by ${this.names[this.owner[p]!]}`);
    }
    const id = this.devices.push(device) - 1;
    this.names.push(name);
    this.owner.fill(id, first, last + 1);
  }

  /** Who decodes a port, for panels and errors. */
  ownerOf(port: number): string | null {
    const id = this.owner[port & 0xffff]!;
    return id === UNCLAIMED ? null : this.names[id]!;
  }

  inb(port: number): number {
    port &= 0xffff;
    const device = this.devices[this.owner[port]!];
    if (!device) {
      this.trace.record(this.clock.now, EventKind.PortUnclaimed, port, 0xff, 0);
      return 0xff;
    }
    const value = device.ioRead(port) & 0xff;
    if (this.trace.enabled) this.trace.record(this.clock.now, EventKind.PortRead, port, value, 1);
    return value;
  }

  outb(port: number, value: number): void {
    port &= 0xffff;
    value &= 0xff;
    const device = this.devices[this.owner[port]!];
    if (!device) {
      this.trace.record(this.clock.now, EventKind.PortUnclaimed, port, value, 1);
      return;
    }
    if (this.trace.enabled) this.trace.record(this.clock.now, EventKind.PortWrite, port, value, 1);
    device.ioWrite(port, value);
  }

  /** A 16-bit access is two byte accesses, low port first, as on the ISA bus's 8-bit devices. */
  inw(port: number): number {
    return this.inb(port) | (this.inb(port + 1) << 8);
  }

  outw(port: number, value: number): void {
    this.outb(port, value & 0xff);
    this.outb(port + 1, (value >>> 8) & 0xff);
  }

  inl(port: number): number {
    return (this.inw(port) | (this.inw(port + 2) << 16)) >>> 0;
  }

  outl(port: number, value: number): void {
    this.outw(port, value & 0xffff);
    this.outw(port + 2, (value >>> 16) & 0xffff);
  }
}
