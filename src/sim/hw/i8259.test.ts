import { describe, expect, it } from 'vitest';
import { Random } from '../machine/random';
import { Scheduler } from '../machine/scheduler';
import { ArraySink, EventKind } from '../trace/sink';
import { I8259, masterPicConfig, slavePicConfig } from './i8259';
import { IoBus } from './ioBus';

// Conformance of one 8259A with reference/hw/i8259a.md §3–§10, programmed through its
// ports as a BIOS or driver would; IR pins and INTA pulses are the hardware side. The data
// sheet's numbers are written out here rather than imported, so a wrong constant in the
// model cannot pass its own test. Most tests use a single chip (ICW1 SNGL) at 0x20/0x21.

const CMD = 0x20; // A0 = 0
const DATA = 0x21; // A0 = 1
// ICW1 (§4)
const ICW1 = 0x10;
const IC4 = 0x01;
const SNGL = 0x02;
const LTIM = 0x08;
// ICW4 (§4)
const UPM_8086 = 0x01;
const AEOI = 0x02;
// OCW2 (§5)
const NON_SPECIFIC_EOI = 0x20;
const SPECIFIC_EOI = 0x60;
const ROTATE_NON_SPECIFIC_EOI = 0xa0;
const ROTATE_AEOI_SET = 0x80;
const ROTATE_AEOI_CLEAR = 0x00;
const ROTATE_SPECIFIC_EOI = 0xe0;
const SET_PRIORITY = 0xc0;
const OCW2_NOP = 0x40;
// OCW3 (§5)
const READ_IRR = 0x0a;
const READ_ISR = 0x0b;
const POLL = 0x0c;
const SET_SPECIAL_MASK = 0x68;
const CLEAR_SPECIAL_MASK = 0x48;
// Poll word (§6)
const POLL_I = 0x80;

const BASE = 0x08; // vector base the BIOS gives the master (§12)

function rig(config = masterPicConfig) {
  const clock = new Scheduler();
  const sink = new ArraySink();
  const bus = new IoBus(clock, sink);
  const pic = new I8259(config, clock, sink);
  bus.map(config.base, config.base + 1, pic, 'pic');
  const cmd = config.base;
  const data = config.base + 1;
  const intEdges: boolean[] = [];
  pic.onInt = (level) => intEdges.push(level);
  return {
    clock,
    sink,
    bus,
    pic,
    intEdges,
    out: (port: number, value: number) => bus.outb(port, value),
    in: (port: number) => bus.inb(port),
    /** Single chip, edge triggered, 8086 mode, everything unmasked (ICW1 clears the IMR). */
    initSingle(icw1 = ICW1 | SNGL | IC4, icw2 = BASE, icw4 = UPM_8086) {
      bus.outb(cmd, icw1);
      bus.outb(data, icw2);
      if (icw1 & IC4) bus.outb(data, icw4);
    },
    readIrr() {
      bus.outb(cmd, READ_IRR);
      return bus.inb(cmd);
    },
    readIsr() {
      bus.outb(cmd, READ_ISR);
      return bus.inb(cmd);
    },
    /** Both INTA pulses; returns the vector byte. */
    inta(): number {
      return pic.intaLast(pic.intaFirst());
    },
    pulse(ir: number) {
      pic.setInput(ir, true);
      pic.setInput(ir, false);
    },
  };
}

describe('8259A initialization (§4)', () => {
  it('takes ICW1, ICW2, ICW4 in single mode and then treats A0 = 1 writes as OCW1', () => {
    const r = rig();
    r.initSingle();
    r.out(DATA, 0xa5);
    expect(r.in(DATA)).toBe(0xa5);
    expect(r.pic.snapshot().initStep).toBe('ready');
  });

  it('expects ICW3 in cascade mode before ICW4', () => {
    const r = rig();
    r.out(CMD, ICW1 | IC4);
    r.out(DATA, BASE);
    r.out(DATA, 0x04); // ICW3: a slave on IR2
    expect(r.pic.snapshot().initStep).toBe('icw4');
    r.out(DATA, UPM_8086);
    r.out(DATA, 0x5a);
    expect(r.in(DATA)).toBe(0x5a);
    expect(r.pic.snapshot().icw3).toBe(0x04);
  });

  it('is ready after ICW2 when neither ICW3 nor ICW4 is asked for', () => {
    const r = rig();
    r.out(CMD, ICW1 | SNGL);
    r.out(DATA, BASE);
    r.out(DATA, 0x33);
    expect(r.in(DATA)).toBe(0x33);
  });

  it('ICW1 clears the IMR, selects IRR for reads, clears special mask mode and makes IR7 lowest', () => {
    const r = rig();
    r.initSingle();
    r.out(DATA, 0xff);
    r.out(CMD, READ_ISR);
    r.out(CMD, SET_SPECIAL_MASK);
    r.out(CMD, SET_PRIORITY | 3); // IR4 highest
    r.initSingle();
    expect(r.in(DATA)).toBe(0x00);
    const snap = r.pic.snapshot();
    expect(snap.readRegister).toBe('irr');
    expect(snap.specialMaskMode).toBe(false);
    expect(snap.lowestPriority).toBe(7);
    r.pic.setInput(4, true);
    r.pic.setInput(0, true);
    expect(r.inta()).toBe(BASE | 0); // IR0 highest again
  });

  it('ICW1 resets the edge sense: a line held high needs a fresh low→high edge', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(3, true);
    expect(r.readIrr()).toBe(1 << 3);
    r.initSingle();
    expect(r.readIrr()).toBe(0);
    expect(r.pic.int).toBe(false);
    r.pic.setInput(3, false);
    r.pic.setInput(3, true);
    expect(r.pic.int).toBe(true);
  });

  it('ICW1 without IC4 zeroes the ICW4 functions (AEOI off)', () => {
    const r = rig();
    r.initSingle(ICW1 | SNGL | IC4, BASE, UPM_8086 | AEOI);
    r.out(CMD, ICW1 | SNGL);
    r.out(DATA, BASE);
    expect(r.pic.snapshot().icw4).toBe(0);
    expect(r.pic.snapshot().autoEoi).toBe(false);
  });

  it('ICW1 clears the ISR (as QEMU and Bochs; the data sheet is silent)', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(5, true);
    r.inta();
    expect(r.readIsr()).toBe(1 << 5);
    r.initSingle();
    expect(r.readIsr()).toBe(0);
  });

  it('uses only T7–T3 of ICW2: the vector is (ICW2 & 0xF8) | level', () => {
    const r = rig();
    r.initSingle(ICW1 | SNGL | IC4, 0x4d);
    r.pic.setInput(6, true);
    expect(r.inta()).toBe(0x48 | 6);
  });

  it('stays quiet before its first initialization', () => {
    const r = rig();
    r.pic.setInput(1, true);
    expect(r.pic.int).toBe(false);
  });
});

describe('8259A OCW1 masking (§5, §8)', () => {
  it('latches a masked request in the IRR without raising INT; unmasking raises it', () => {
    const r = rig();
    r.initSingle();
    r.out(DATA, 1 << 4);
    r.pic.setInput(4, true);
    expect(r.readIrr()).toBe(1 << 4);
    expect(r.pic.int).toBe(false);
    r.out(DATA, 0x00);
    expect(r.pic.int).toBe(true);
    expect(r.inta()).toBe(BASE | 4);
  });

  it('masking one level does not disturb the others', () => {
    const r = rig();
    r.initSingle();
    r.out(DATA, 1 << 1);
    r.pic.setInput(1, true);
    r.pic.setInput(6, true);
    expect(r.inta()).toBe(BASE | 6);
  });
});

describe('8259A OCW3 status reads and poll (§6)', () => {
  it('reads IRR or ISR at A0 = 0 as selected, the selection persisting; IMR at A0 = 1 always', () => {
    const r = rig();
    r.initSingle();
    r.out(DATA, 0x80);
    r.pic.setInput(2, true);
    r.pic.setInput(3, true);
    r.inta(); // IR2 in service
    r.out(CMD, READ_IRR);
    expect(r.in(CMD)).toBe(1 << 3);
    expect(r.in(CMD)).toBe(1 << 3);
    expect(r.in(DATA)).toBe(0x80);
    r.out(CMD, READ_ISR);
    expect(r.in(CMD)).toBe(1 << 2);
    expect(r.in(CMD)).toBe(1 << 2);
    expect(r.in(DATA)).toBe(0x80);
  });

  it('an OCW3 without RR leaves the read selection alone', () => {
    const r = rig();
    r.initSingle();
    r.out(CMD, READ_ISR);
    r.out(CMD, 0x08); // OCW3, RR = 0 RIS = 1 would be 0x09; nothing requested
    r.out(CMD, 0x09); // RIS without RR: ignored
    r.pic.setInput(1, true);
    expect(r.in(CMD)).toBe(0); // still the ISR, empty
  });

  it('poll returns I = 1 and the level, puts it in service, and lasts one read', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(5, true);
    r.pic.setInput(6, true);
    r.out(CMD, POLL);
    expect(r.in(CMD)).toBe(POLL_I | 5);
    expect(r.readIsr()).toBe(1 << 5);
    expect(r.readIrr()).toBe(1 << 6);
    expect(r.in(CMD)).toBe(1 << 6); // back to the selected register
  });

  it('poll with nothing requesting has I = 0', () => {
    const r = rig();
    r.initSingle();
    r.out(CMD, POLL);
    expect(r.in(CMD) & POLL_I).toBe(0);
  });

  it('poll answers at A0 = 1 too, and overrides a read-register request in the same OCW3', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(0, true);
    r.out(CMD, POLL | READ_ISR);
    expect(r.in(DATA)).toBe(POLL_I | 0);
    expect(r.in(CMD)).toBe(1 << 0); // and ISR was selected
  });
});

describe('8259A priority and nesting (§8)', () => {
  it('fixed priority: IR0 highest, IR7 lowest', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(5, true);
    r.pic.setInput(3, true);
    expect(r.inta()).toBe(BASE | 3);
    r.out(CMD, NON_SPECIFIC_EOI);
    expect(r.inta()).toBe(BASE | 5);
  });

  it('a higher-priority request interrupts while a lower one is in service', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(5, true);
    expect(r.inta()).toBe(BASE | 5);
    expect(r.pic.int).toBe(false);
    r.pic.setInput(2, true);
    expect(r.pic.int).toBe(true);
    expect(r.inta()).toBe(BASE | 2);
    expect(r.readIsr()).toBe((1 << 5) | (1 << 2));
  });

  it('a lower or equal request waits for the EOI of the level in service', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(3, true);
    r.inta();
    r.pic.setInput(6, true);
    expect(r.pic.int).toBe(false);
    r.out(CMD, NON_SPECIFIC_EOI);
    expect(r.pic.int).toBe(true);
    expect(r.inta()).toBe(BASE | 6);
  });

  it('set priority (0xC0|L) makes L lowest and L+1 highest', () => {
    const r = rig();
    r.initSingle();
    r.out(CMD, SET_PRIORITY | 4);
    r.pic.setInput(0, true);
    r.pic.setInput(4, true);
    r.pic.setInput(6, true);
    expect(r.inta()).toBe(BASE | 6); // IR5 highest: 6 beats 0, 0 beats 4
    r.out(CMD, SPECIFIC_EOI | 6);
    expect(r.inta()).toBe(BASE | 0);
    r.out(CMD, SPECIFIC_EOI | 0);
    expect(r.inta()).toBe(BASE | 4);
  });

  it('under rotated priority a request below the in-service level in the new order waits', () => {
    const r = rig();
    r.initSingle();
    r.out(CMD, SET_PRIORITY | 2); // IR3 highest … IR2 lowest
    r.pic.setInput(5, true);
    r.inta();
    r.pic.setInput(1, true); // IR1 ranks below IR5 now
    expect(r.pic.int).toBe(false);
    r.pic.setInput(4, true);
    expect(r.pic.int).toBe(true);
  });

  it('special mask mode: masking the level in service lets lower levels in', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(3, true);
    r.inta();
    r.pic.setInput(6, true);
    expect(r.pic.int).toBe(false);
    r.out(DATA, 1 << 3);
    expect(r.pic.int).toBe(false); // masking alone is not enough
    r.out(CMD, SET_SPECIAL_MASK);
    expect(r.pic.int).toBe(true);
    expect(r.inta()).toBe(BASE | 6);
    r.out(CMD, CLEAR_SPECIAL_MASK);
    expect(r.pic.snapshot().specialMaskMode).toBe(false);
  });

  it('special mask mode: a non-specific EOI does not clear a masked level', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(3, true);
    r.inta();
    r.out(DATA, 1 << 3);
    r.out(CMD, SET_SPECIAL_MASK);
    r.pic.setInput(6, true);
    r.inta();
    r.out(CMD, NON_SPECIFIC_EOI);
    expect(r.readIsr()).toBe(1 << 3);
    r.out(CMD, SPECIFIC_EOI | 3);
    expect(r.readIsr()).toBe(0);
  });
});

describe('8259A OCW2 commands (§5, §9)', () => {
  it('non-specific EOI (0x20) clears the highest-priority ISR bit', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(5, true);
    r.inta();
    r.pic.setInput(1, true);
    r.inta();
    r.out(CMD, NON_SPECIFIC_EOI);
    expect(r.readIsr()).toBe(1 << 5);
    expect(r.sink.list(EventKind.Eoi).map((e) => [e[2], e[3]])).toEqual([[-1, 0]]);
  });

  it('specific EOI (0x60|L) clears ISR bit L only', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(5, true);
    r.inta();
    r.pic.setInput(1, true);
    r.inta();
    r.out(CMD, SPECIFIC_EOI | 5);
    expect(r.readIsr()).toBe(1 << 1);
    expect(r.sink.list(EventKind.Eoi).map((e) => [e[2], e[3]])).toEqual([[5, 0]]);
  });

  it('rotate on non-specific EOI (0xA0): the level served becomes lowest', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(0, true);
    r.pic.setInput(1, true);
    expect(r.inta()).toBe(BASE | 0);
    r.out(CMD, ROTATE_NON_SPECIFIC_EOI);
    expect(r.readIsr()).toBe(0);
    expect(r.pic.snapshot().lowestPriority).toBe(0);
    r.pic.setInput(0, false);
    r.pic.setInput(0, true);
    expect(r.inta()).toBe(BASE | 1); // IR1 is now highest, IR0 lowest
    r.out(CMD, ROTATE_NON_SPECIFIC_EOI);
    expect(r.inta()).toBe(BASE | 0);
  });

  it('rotate on specific EOI (0xE0|L): clears L and makes it lowest', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(2, true);
    r.inta();
    r.out(CMD, ROTATE_SPECIFIC_EOI | 2);
    expect(r.readIsr()).toBe(0);
    r.pic.setInput(2, false);
    r.pic.setInput(2, true);
    r.pic.setInput(7, true);
    expect(r.inta()).toBe(BASE | 7); // IR3 highest … IR2 lowest
  });

  it('rotate in AEOI mode set (0x80) rotates at each automatic EOI; clear (0x00) stops it', () => {
    const r = rig();
    r.initSingle(ICW1 | SNGL | IC4, BASE, UPM_8086 | AEOI);
    r.out(CMD, ROTATE_AEOI_SET);
    r.pic.setInput(0, true);
    r.pic.setInput(1, true);
    expect(r.inta()).toBe(BASE | 0);
    expect(r.pic.snapshot().lowestPriority).toBe(0);
    r.pic.setInput(0, false);
    r.pic.setInput(0, true);
    expect(r.inta()).toBe(BASE | 1);
    expect(r.inta()).toBe(BASE | 0);
    r.out(CMD, ROTATE_AEOI_CLEAR);
    expect(r.pic.snapshot().rotateInAutoEoi).toBe(false);
    r.pic.setInput(3, true);
    r.inta();
    expect(r.pic.snapshot().lowestPriority).toBe(0); // unchanged since the clear
  });

  it('0x40 is a no-operation', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(4, true);
    r.inta();
    const before = r.pic.snapshot();
    r.out(CMD, OCW2_NOP | 4);
    expect(r.pic.snapshot()).toEqual(before);
  });
});

describe('8259A request sensing (§7)', () => {
  it('edge mode: a line held high after the EOI does not request again; a new edge does', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(4, true);
    r.inta();
    r.out(CMD, NON_SPECIFIC_EOI);
    expect(r.pic.int).toBe(false);
    expect(r.readIrr()).toBe(0);
    r.pic.setInput(4, false);
    r.pic.setInput(4, true);
    expect(r.pic.int).toBe(true);
  });

  it('edge mode: a request that falls before the INTA is lost (IRR not sticky)', () => {
    const r = rig();
    r.initSingle();
    r.pulse(4);
    expect(r.readIrr()).toBe(0);
    expect(r.pic.int).toBe(false);
  });

  it('level mode: a line still high at the EOI requests again; the IRR follows the line', () => {
    const r = rig();
    r.initSingle(ICW1 | SNGL | IC4 | LTIM);
    r.pic.setInput(4, true);
    expect(r.inta()).toBe(BASE | 4);
    expect(r.pic.int).toBe(false);
    r.out(CMD, NON_SPECIFIC_EOI);
    expect(r.pic.int).toBe(true);
    r.pic.setInput(4, false);
    expect(r.readIrr()).toBe(0);
    expect(r.pic.int).toBe(false);
  });

  it('level mode needs no edge after ICW1', () => {
    const r = rig();
    r.pic.setInput(2, true);
    r.initSingle(ICW1 | SNGL | IC4 | LTIM);
    expect(r.pic.int).toBe(true);
  });
});

describe('8259A acknowledge (§9, §10)', () => {
  it('INTA sets ISR, clears IRR and drops INT', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(1, true);
    expect(r.intEdges).toEqual([true]);
    r.inta();
    expect(r.intEdges).toEqual([true, false]);
    expect(r.readIsr()).toBe(1 << 1);
    expect(r.readIrr()).toBe(0);
  });

  it('automatic EOI: no ISR bit stays set, so nothing is held off', () => {
    const r = rig();
    r.initSingle(ICW1 | SNGL | IC4, BASE, UPM_8086 | AEOI);
    r.pic.setInput(2, true);
    expect(r.inta()).toBe(BASE | 2);
    expect(r.readIsr()).toBe(0);
    r.pic.setInput(6, true);
    expect(r.pic.int).toBe(true);
  });

  it('spurious IR7: a request gone before the INTA gives base+7 with ISR bit 7 clear', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(3, true);
    r.pic.setInput(3, false);
    expect(r.inta()).toBe(BASE | 7);
    expect(r.readIsr()).toBe(0);
  });

  it('a request masked between INT and INTA also gives the default IR7', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(3, true);
    r.out(DATA, 1 << 3);
    expect(r.inta()).toBe(BASE | 7);
    expect(r.readIsr()).toBe(0);
  });

  it('a real IR7 sets ISR bit 7, which is how a handler tells it from a spurious one', () => {
    const r = rig();
    r.initSingle();
    r.pic.setInput(7, true);
    expect(r.inta()).toBe(BASE | 7);
    expect(r.readIsr()).toBe(1 << 7);
  });
});

describe('8259A cascade roles (§11)', () => {
  it('a master names the slave on CAS only for inputs ICW3 marks', () => {
    const r = rig();
    r.out(CMD, ICW1 | IC4);
    r.out(DATA, BASE);
    r.out(DATA, 0x04);
    r.out(DATA, UPM_8086);
    expect(r.pic.cascadeId(2)).toBe(2);
    expect(r.pic.cascadeId(3)).toBe(-1);
    expect(r.pic.answersInta()).toBe(true);
  });

  it('a slave answers only its own ID from ICW3', () => {
    const r = rig(slavePicConfig);
    r.out(0xa0, ICW1 | IC4);
    r.out(0xa1, 0x70);
    r.out(0xa1, 0x02);
    r.out(0xa1, UPM_8086);
    expect(r.pic.answersInta()).toBe(false);
    expect(r.pic.answersCascade(2)).toBe(true);
    expect(r.pic.answersCascade(3)).toBe(false);
    r.pic.setInput(6, true);
    expect(r.inta()).toBe(0x76);
  });
});

describe('8259A undefined input (§4, §15)', () => {
  it('an OCW before any ICW1 and an ICW4 in MCS-80/85 mode do not throw and are counted', () => {
    const r = rig();
    expect(() => {
      r.out(CMD, NON_SPECIFIC_EOI);
      r.out(DATA, 0x12);
      r.out(CMD, ICW1 | SNGL | IC4);
      r.out(DATA, BASE);
      r.out(DATA, 0x00); // ICW4 without µPM
    }).not.toThrow();
    expect(r.pic.snapshot().anomalyCount).toBe(3);
    r.pic.setInput(1, true);
    expect(r.inta()).toBe(BASE | 1); // still answers with the 8086 vector
  });

  it('a run of random port writes, reads, IR changes and INTAs never throws (seeded)', () => {
    for (const seed of [1, 2, 3, 0x8259]) {
      const r = rig();
      const rnd = new Random(seed);
      expect(() => {
        for (let i = 0; i < 20_000; i++) {
          const op = rnd.int(0, 9);
          if (op < 5) r.out(rnd.int(0, 1) ? DATA : CMD, rnd.int(0, 255));
          else if (op < 7) r.in(rnd.int(0, 1) ? DATA : CMD);
          else if (op < 9) r.pic.setInput(rnd.int(0, 7), rnd.int(0, 1) === 1);
          else r.inta();
          const s = r.pic.snapshot();
          if ((s.isr | s.irr | s.imr) > 0xff || s.lowestPriority < 0 || s.lowestPriority > 7) throw new Error(`bad state at step ${i}`);
        }
      }).not.toThrow();
    }
  });
});
