import { writeSync } from 'node:fs';
import { dispatch } from '../../api/dispatch';
import { createApiHandlers } from '../../api/handlers';
import { LabCatalog } from '../labCatalog';
import type { Playground } from '../playground';
import { Progress } from '../progress';
import type { RunManager } from '../runManager';

// A child process for the crash test (progressCrash.test.ts): writes progress as the app
// does, through the same API handlers (autosaves, hints, settings) and the same hook a
// finished run goes through (an attempt), without end, and prints "ack" for each write only
// once it has returned, that is, once SQLite has committed it. The test kills it at any moment.
//
//   node progressWriter.mjs <progress file> <labs folder> <first write number>

const [file, labsDir, first] = process.argv.slice(2) as [string, string, string];
const LABS = ['01-adapter-object', '02-packet-read', '03-packet-write-coherency', '04-splitting-transfers'];
const progress = new Progress(file, {}, () => {});
const handlers = createApiHandlers({ catalog: new LabCatalog(labsDir), playground: null as unknown as Playground, runs: null as unknown as RunManager, progress });
const ack = (line: string) => writeSync(1, `${line}\n`);

// Something the test can see at once: the store opened (and said what it found).
ack(`open ${progress.problem() ?? 'ok'} ${progress.notice() ?? 'none'}`);

for (let i = Number(first); ; i++) {
  const lab = LABS[i % LABS.length]!;
  switch (i % 4) {
    case 0: {
      // An autosave of a few kilobytes, numbered so that the test can tell which one it sees.
      const code = `// write ${i}\n${'x'.repeat(1000 + (i % 7) * 1000)}\n`;
      const r = await dispatch(handlers, 'progress.saveCode', { labId: lab, code });
      if (r.ok) ack(`code ${i} ${lab}`);
      break;
    }
    case 1:
      progress.recordRun(lab, { kind: 'result', result: { ok: false, checks: [{ id: 'data-integrity', ok: false, message: `write ${i}` }], violations: [], bugcheck: null, irps: [], console: [], stats: { simulatedNs: i, dmaBytes: 0, interrupts: 0, dpcs: 0, mapTransfers: 0, apiCalls: 0 } } });
      ack(`attempt ${i} ${lab}`);
      break;
    case 2: {
      const r = await dispatch(handlers, 'settings.set', { lastLab: `write-${i}` });
      if (r.ok) ack(`setting ${i}`);
      break;
    }
    default: {
      const r = await dispatch(handlers, 'progress.unlockHint', { labId: lab });
      if (r.ok) ack(`hint ${i} ${lab}`);
    }
  }
}
