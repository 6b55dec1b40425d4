import { api, type ApiErrorBody, type Envelope } from '../../shared/api';
import { isApiChannel } from '../../shared/channels';
import { describeProblem, problemsFromZod } from '../../shared/schemaError';
import { LabNotFoundError } from '../services/labCatalog';
import { DebugRunError } from '../services/debugRun';
import { ProgressFileError } from '../services/progressStore';
import { RunNotFoundError } from '../services/runManager';
import { ScenarioNotFoundError } from '../services/playground';
import { ScenarioFileError } from '../services/scenarioFile';
import { type ApiClient, type ApiHandlers, SILENT_CLIENT, SolutionLockedError } from './handlers';

// Every transport (Electron IPC, the web host's WebSocket, tests) calls this one
// function: it checks the channel and the request against the contract, runs the
// handler, checks what the handler returns, and turns every failure into an error value.

export type Logger = (message: string) => void;

export async function dispatch(
  handlers: ApiHandlers,
  channel: unknown,
  request: unknown,
  log: Logger = () => {},
  client: ApiClient = SILENT_CLIENT,
): Promise<Envelope<unknown>> {
  if (!isApiChannel(channel)) {
    const name = typeof channel === 'string' ? `"${channel.slice(0, 64)}"` : `a ${typeof channel}`;
    return fail({ code: 'unknown-channel', message: `unknown API channel ${name}; expected one of ${Object.keys(api).join(', ')}` }, log);
  }
  const parsed = api[channel].request.safeParse(request);
  if (!parsed.success) {
    const details = problemsFromZod(parsed.error).map(describeProblem).join('; ');
    return fail({ code: 'bad-request', message: `${channel}: the request does not fit the contract: ${details}` }, log);
  }
  try {
    const value = await (handlers[channel] as (r: unknown, c: ApiClient) => Promise<unknown>)(parsed.data, client);
    const checked = api[channel].response.safeParse(value);
    if (!checked.success) {
      const details = problemsFromZod(checked.error).map(describeProblem).join('; ');
      return fail({ code: 'internal', message: `${channel}: the response does not fit the contract: ${details}` }, log);
    }
    return { ok: true, value: checked.data };
  } catch (err) {
    if (err instanceof LabNotFoundError || err instanceof RunNotFoundError || err instanceof ScenarioNotFoundError) return fail({ code: 'not-found', message: err.message }, log);
    if (err instanceof ScenarioFileError) return fail({ code: 'bad-request', message: `${channel}: the scenario does not fit:\n${err.message}` }, log);
    if (err instanceof DebugRunError || err instanceof ProgressFileError || err instanceof SolutionLockedError) return fail({ code: 'bad-request', message: `${channel}: ${err.message}` }, log);
    const message = err instanceof Error ? err.message : String(err);
    return fail({ code: 'internal', message: `${channel}: ${message}` }, log);
  }
}

function fail(error: ApiErrorBody, log: Logger): Envelope<never> {
  log(`api: ${error.code}: ${error.message}`);
  return { ok: false, error };
}
