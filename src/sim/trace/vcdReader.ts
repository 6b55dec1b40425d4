// A small VCD reader: names, changes per signal, timestamps, and what a strict reader would
// stumble on (lines it does not know, several changes on a line, a signal changed twice at
// one time). The tests read exported files back with it, beside sigrok-cli and GTKWave.

export interface Vcd {
  /** Nanoseconds per time unit. */
  unit: number;
  /** Full names (scope.name[bit]) in declaration order, and the same without scopes. */
  names: string[];
  bare: string[];
  widths: Map<string, number>;
  /** Per full name: [time, value] for every change, the initial values at the first timestamp included. */
  changes: Map<string, [number, string][]>;
  /** Every timestamp, in order (the last is the closing one). */
  times: number[];
  /** Lines after $enddefinitions that are not a timestamp, a value change, $dumpvars or $end. */
  strange: string[];
  /** Lines with more than one change. */
  crowded: number;
  /** Changes of one signal twice under one timestamp. */
  repeats: number;
}

const UNITS: Record<string, number> = { s: 1e9, ms: 1e6, us: 1e3, ns: 1, ps: 1e-3, fs: 1e-6 };

export function readVcd(text: string): Vcd {
  const vcd: Vcd = { unit: 1, names: [], bare: [], widths: new Map(), changes: new Map(), times: [], strange: [], crowded: 0, repeats: 0 };
  const ids = new Map<string, string[]>();
  const header = text.indexOf('$enddefinitions');
  // Header: sections may span lines (fst2vcd writes $timescale over three).
  const scope: string[] = [];
  for (const section of text.slice(0, header).split('$end').map((s) => s.trim().split(/\s+/))) {
    const [keyword, ...rest] = section;
    if (keyword === '$timescale') {
      const m = /^(\d+)\s*([a-z]+)$/.exec(rest.join(''))!;
      vcd.unit = Number(m[1]) * UNITS[m[2]!]!;
    } else if (keyword === '$scope') scope.push(rest[1]!);
    else if (keyword === '$upscope') scope.pop();
    else if (keyword === '$var') {
      const [, width, id, ...name] = rest;
      const bare = name.join('').replace(/\[\d+:0\]$/, '');
      const full = [...scope, bare].join('.');
      vcd.names.push(full);
      vcd.bare.push(bare);
      vcd.widths.set(full, Number(width));
      vcd.changes.set(full, []);
      ids.set(id!, [...(ids.get(id!) ?? []), full]);
    }
  }
  let time = -1;
  /** Per identifier, the last time it changed (to catch two changes under one timestamp). */
  const last = new Map<string, number>();
  const change = (id: string, value: string, line: string): boolean => {
    const names = ids.get(id);
    if (!names) {
      vcd.strange.push(line);
      return false;
    }
    if (last.get(id) === time) vcd.repeats++;
    last.set(id, time);
    for (const name of names) vcd.changes.get(name)!.push([time, value]);
    return true;
  };
  /** Changes written as tokens ("0!", "b101 #"), several to a line as sigrok writes them. */
  const tokens = (line: string, list: string[]): void => {
    for (let i = 0; i < list.length; i++) {
      const token = list[i]!;
      if (token[0] === 'b') {
        if (!change(list[++i] ?? '', String(parseInt(token.slice(1), 2)), line)) return;
      } else if ('01xz'.includes(token[0]!)) {
        if (!change(token.slice(1), token[0]!, line)) return;
      } else return void vcd.strange.push(line);
    }
  };
  for (let at = text.indexOf('\n', header) + 1; at < text.length; ) {
    let eol = text.indexOf('\n', at);
    if (eol < 0) eol = text.length;
    const line = text.slice(at, eol);
    at = eol + 1;
    const c = line[0];
    if (c === '#') {
      const space = line.indexOf(' ');
      time = Number(line.slice(1, space < 0 ? undefined : space)) * vcd.unit;
      vcd.times.push(time);
      if (space >= 0) {
        const list = line.slice(space + 1).split(' ');
        if (list.length > 1) vcd.crowded++;
        tokens(line, list);
      }
    } else if (c === 'b') {
      const space = line.indexOf(' ');
      if (line.indexOf(' ', space + 1) >= 0) vcd.crowded++;
      tokens(line, line.split(' '));
    } else if (c === '0' || c === '1' || c === 'x' || c === 'z') {
      if (line.includes(' ')) {
        vcd.crowded++;
        tokens(line, line.split(' '));
      } else change(line.slice(1), c, line);
    } else if (line !== '' && line !== '$dumpvars' && line !== '$end') vcd.strange.push(line);
  }
  return vcd;
}
