import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { userDataDir } from '../main/services/dataDir';
import { createServices } from '../main/services';
import { startWebHost } from '../main/webhost/server';
import { CliUsageError, type Command, parseOptions } from './command';

export const serveCommand: Command = {
  summary: 'serve the app to a browser on 127.0.0.1 [--port N] (0 = a free port)',
  async run(args, { appRoot }) {
    const { values } = parseOptions(args, { port: { type: 'string', default: '0' } });
    const port = Number(values.port);
    if (!/^[0-9]+$/.test(values.port) || port > 65535) throw new CliUsageError(`--port expects a number from 0 to 65535, got "${values.port}"`);
    const services = createServices(appRoot);
    if (!existsSync(join(services.paths.rendererDir, 'index.html'))) {
      throw new CliUsageError(`the renderer is not built (${services.paths.rendererDir} is missing); run "npm run build" first`);
    }
    services.warmUp();
    let host;
    try {
      host = await startWebHost({ rendererDir: services.paths.rendererDir, handlers: services.handlers, port, log: (m) => console.error(m) });
    } catch (err) {
      throw new CliUsageError(`cannot listen on 127.0.0.1:${port}: ${err instanceof Error ? err.message : String(err)}`);
    }
    console.error(`DMA Lab web host; user data in ${userDataDir()}; Ctrl+C stops it`);
    console.log(host.url);
    await new Promise<void>((resolve) => {
      const stop = () =>
        void host.close().then(() => {
          services.runs.stopAll();
          services.progress.close();
          resolve();
        });
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
