import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface CliContext {
  /** The folder that holds package.json, labs/ and out/. */
  appRoot: string;
}

export interface Command {
  summary: string;
  run(args: string[], context: CliContext): Promise<number>;
}

/** Bad input on the command line: exit code 2 with this message. */
export class CliUsageError extends Error {}

/** node:util's parseArgs, with its errors turned into usage errors. */
export function parseOptions<O extends Options>(args: string[], options: O): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new CliUsageError(err instanceof Error ? err.message : String(err));
  }
}
