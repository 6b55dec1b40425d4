import { parentPort, workerData } from 'node:worker_threads';
import type { Scenario } from '../../shared/scenario';
import { SandboxLoadError } from '../../sim/driver/sandbox';
import { runScenario } from '../../sim/run/session';
import type { SimulationReply, SimulationRequest } from './simulation';

// One simulation, in a worker thread of its own (DESIGN.md, "The app"): the driver's
// sandbox grows this thread's memory, and a runaway one takes only this thread down.

async function main(request: SimulationRequest): Promise<SimulationReply> {
  try {
    const session = await runScenario({
      scenario: request.scenario as Scenario,
      source: request.source,
      file: request.file,
      seed: request.seed,
      images: new Map(Object.entries(request.images).map(([k, v]) => [k, new Uint8Array(v)])),
      files: new Map(Object.entries(request.files)),
    });
    return { kind: 'result', result: session.result };
  } catch (error) {
    if (error instanceof SandboxLoadError) return { kind: 'load-error', message: error.message, compileErrors: error.compileErrors };
    throw error;
  }
}

main(workerData as SimulationRequest).then(
  (reply) => parentPort!.postMessage(reply),
  (error: unknown) => parentPort!.postMessage({ kind: 'crash', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies SimulationReply),
);
