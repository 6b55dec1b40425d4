import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBench } from './bench';
import { CliUsageError, type Command } from './command';
import { labsCommand } from './labs';
import { runCommand } from './run';
import { serveCommand } from './serve';

// `dmalab`: the lab from a terminal. Exit codes: 0 success, 1 a check or run failed,
// 2 bad input (unknown command or option, missing file, invalid lab or scenario).

/** The built CLI lives in out/main/; the app's files are two folders up. */
const appRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const commands: Record<string, Command> = {
  serve: serveCommand,
  labs: labsCommand,
  run: runCommand,
  bench: { summary: 'run the benchmarks (--json: one JSON object as the last line)', run: runBench },
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
