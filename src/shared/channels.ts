// The names of the API's channels, with nothing else, so that the preload can
// check a channel name without loading the schemas.
export const API_CHANNELS = ['labs.list', 'labs.get', 'run.start', 'run.prepare', 'run.control', 'run.set', 'run.trace', 'run.signals', 'run.timeline', 'run.memory', 'progress.overview', 'progress.lab', 'progress.saveCode', 'progress.hints', 'progress.unlockHint', 'labs.solution', 'settings.get', 'settings.set', 'run.export', 'run.exportCancel', 'progress.export', 'progress.import', 'playground.list', 'playground.get', 'playground.open', 'playground.saveDriver'] as const;
export type ApiChannel = (typeof API_CHANNELS)[number];

export function isApiChannel(name: unknown): name is ApiChannel {
  return typeof name === 'string' && (API_CHANNELS as readonly string[]).includes(name);
}

/** The one Electron IPC channel every API call travels on. */
export const IPC_CHANNEL = 'dmalab:api';

/** The Electron IPC channel main pushes events on (a run's stops and states). */
export const IPC_EVENT_CHANNEL = 'dmalab:event';

export const API_EVENTS = ['run.event', 'export.event'] as const;
