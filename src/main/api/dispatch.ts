import type { z } from 'zod';
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
    const details = describeProblems(parsed.error);
    return fail({ code: 'bad-request', message: `${channel}: the request does not fit the contract: ${details}` }, log);
  }
  try {
    const value = await (handlers[channel] as (r: unknown, c: ApiClient) => Promise<unknown>)(parsed.data, client);
    const checked = api[channel].response.safeParse(value);
    if (!checked.success) {
      const details = describeProblems(checked.error);
      return fail({ code: 'internal', message: `${channel}: the response does not fit the contract: ${details}` }, log);
    }
    return { ok: true, value: checked.data };
  } catch (err) {
    // A handler's message can quote the request too (a progress file's unknown key): kept to a readable size.
    if (err instanceof LabNotFoundError || err instanceof RunNotFoundError || err instanceof ScenarioNotFoundError) return fail({ code: 'not-found', message: bounded(err.message) }, log);
    if (err instanceof ScenarioFileError) return fail({ code: 'bad-request', message: `${channel}: the scenario does not fit:\n${bounded(err.message)}` }, log);
    if (err instanceof DebugRunError || err instanceof ProgressFileError || err instanceof SolutionLockedError) return fail({ code: 'bad-request', message: `${channel}: ${bounded(err.message)}` }, log);
    const message = err instanceof Error ? err.message : String(err);
    return fail({ code: 'internal', message: `${channel}: ${bounded(message)}` }, log);
  }
}

/** Problems listed in an error at most; past them the message says how many more there were. */
const MAX_PROBLEMS = 10;
/** Characters of one problem at most: zod quotes an unknown key whole, and a request can make one up a megabyte long. */
const MAX_PROBLEM_CHARS = 200;

/** What did not fit, in a message a person can read however large and wrong the request was. */
function describeProblems(error: z.ZodError): string {
  const problems = problemsFromZod(error).map(describeProblem);
  const shown = problems.slice(0, MAX_PROBLEMS).map((p) => clip(p, MAX_PROBLEM_CHARS));
  if (problems.length > MAX_PROBLEMS) shown.push(`and ${problems.length - MAX_PROBLEMS} more`);
  return shown.join('; ');
}

/** Lines of a handler's message at most, and characters of each. */
const MAX_LINES = 20;
const MAX_LINE_CHARS = 500;

function bounded(message: string): string {
  const lines = message.split('\n');
  const shown = lines.slice(0, MAX_LINES).map((line) => clip(line, MAX_LINE_CHARS));
  if (lines.length > MAX_LINES) shown.push(`and ${lines.length - MAX_LINES} more lines`);
  return shown.join('\n');
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  // Never half of a surrogate pair.
  const high = text.charCodeAt(max - 1);
  const end = high >= 0xd800 && high <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, end)}… (${text.length} characters)`;
}

function fail(error: ApiErrorBody, log: Logger): Envelope<never> {
  log(`api: ${error.code}: ${error.message}`);
  return { ok: false, error };
}
