import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliUsageError, type Command } from './command';

// `dmalab`: the lab from a terminal. Exit codes: 0 success, 1 a check or run failed,
// 2 bad input (unknown command or option, missing file, invalid lab or scenario).

/** The built CLI lives in out/main/; the app's files are two folders up. */
const appRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Each command's module loads only when it runs: `labs` need not load the TypeScript compiler. */
const lazy = (summary: string, load: () => Promise<Command['run']>): Command => ({ summary, run: async (args, context) => (await load())(args, context) });

const commands: Record<string, Command> = {
  serve: lazy('serve the app to a browser on 127.0.0.1 [--port N] (0 = a free port)', async () => (await import('./serve')).serveCommand.run),
  labs: lazy('list the guided labs [--json]', async () => (await import('./labs')).labsCommand.run),
  run: lazy('run a driver against a scenario: --scenario <file> --driver <file.ts> [--seed N] [--json] [--trace <file>]', async () => (await import('./run')).runCommand.run),
  check: lazy('grade a driver against a lab on several seeds: <lab-id> <driver.ts | folder> [--json] [--seeds N] [--junit <file>] [--record]', async () => (await import('./check')).checkCommand.run),
  rules: lazy('list the verifier rules: what each finding means and the bug check it raises [--json]', async () => (await import('./rules')).rulesCommand.run),
  bench: lazy('run the benchmarks (--json: one JSON object as the last line)', async () => (await import('./bench')).runBench),
  soak: lazy('run the labs\' reference solutions in a loop and watch memory for leaks [--minutes N] [--json]', async () => (await import('./soak')).runSoak),
};

const usage = () =>
  [
    'usage: dmalab <command> [options]',
    '',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`),
    '',
    'DMALAB_DATA_DIR overrides the user data folder.',
  ].join('\n');

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) throw new CliUsageError(`unknown command "${name}"\n\n${usage()}`);
  return command.run(rest, { appRoot });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliUsageError) {
      console.error(`dmalab: ${err.message}`);
      process.exitCode = 2;
    } else {
      console.error(`dmalab: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exitCode = 1;
    }
  },
);
