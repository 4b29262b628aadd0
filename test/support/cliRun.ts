import { runCli } from '../../src/cli/runCli';
import { createLogger } from '../../src/logging/logger';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs `npm run cli -- <argv>` in-process; `onErr` sees each progress line as it is written. */
export async function runCliCapturing(argv: string[], environment: Record<string, string>, onErr: (line: string) => void = () => {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    out: (text: string) => out.push(text),
    err: (text: string) => {
      err.push(text);
      onErr(text);
    },
  };
  const code = await runCli(argv, io, environment, createLogger('error', true));
  return { code, out: out.join('\n'), err: err.join('\n') };
}
