/** The `driftguard` program: commands registered from their modules; errors become exit codes. */
import { Command, CommanderError } from 'commander';
import { ERRORS, isDriftguardError } from '../errors.js';
import { registerAudit } from './audit.js';
import { registerCerts } from './certs.js';
import { registerEvaluate } from './evaluate.js';
import { registerExplain } from './explain.js';
import { registerHistory } from './history.js';
import { EXIT, write, type CliIO } from './io.js';
import { registerManifests } from './manifests.js';
import { registerPolicy } from './policy.js';
import { registerServe } from './serve.js';
import { registerStore } from './store.js';

const VERSION = '0.1.0';

export interface ProgramOptions {
  /** How the user called it: `kubectl driftguard` when run as the kubectl plugin. */
  name?: string;
}

/** The name to show in help: kubectl runs a plugin by its file name, kubectl-driftguard. */
export function programName(invokedAs: string | undefined): string {
  const base = (invokedAs ?? '').split(/[\\/]/).pop() ?? '';
  return /^kubectl-driftguard(\.js)?$/.test(base) ? 'kubectl driftguard' : 'driftguard';
}

export function buildProgram(io: CliIO, setExit: (code: number) => void, opts: ProgramOptions = {}): Command {
  const program = new Command(opts.name ?? 'driftguard')
    .description('Stops GitOps drift at the admission door and explains the drift that is let through')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  registerServe(program, io, setExit);
  registerEvaluate(program, io, setExit);
  registerPolicy(program, io, setExit);
  registerCerts(program, io, setExit);
  registerManifests(program, io, setExit);
  registerExplain(program, io, setExit);
  registerHistory(program, io, setExit);
  registerAudit(program, io, setExit);
  registerStore(program, io, setExit);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Run a command line (without the node and script words); resolves to the exit code. */
export async function run(argv: readonly string[], io: CliIO, opts: ProgramOptions = {}): Promise<number> {
  let code: number = EXIT.OK;
  const program = buildProgram(
    io,
    (c) => {
      code = c;
    },
    opts,
  );
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (isDriftguardError(err)) {
      write(io.stderr, `error ${err.code}: ${err.message}`);
      return ERRORS[err.code].exit;
    }
    // Not a coded error: a bug. One line for the user; the stack only when asked for.
    write(io.stderr, `error: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.DRIFTGUARD_DEBUG === '1' && err instanceof Error && err.stack !== undefined) write(io.stderr, err.stack);
    return EXIT.FAILED;
  }
  return code;
}
