/**
 * Directories and files a command is told to write into, checked before anything is written.
 *
 * `mkdir -p` through Node's `{recursive: true}` never returns on a path under /proc (the kernel
 * answers ENOENT for the child and EEXIST for the parent, and Node tries again forever): creating
 * the missing directories one by one, top down, fails at once with the real reason instead.
 */
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import path from 'node:path';

/** Create `dir` and its missing parents, one at a time; throws the first system error as it is. */
export function makeDirectories(dir: string): void {
  const missing: string[] = [];
  let at = path.resolve(dir);
  for (;;) {
    try {
      if (!statSync(at).isDirectory()) {
        throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${at}'`), { code: 'ENOTDIR', path: at, syscall: 'mkdir' });
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const parent = path.dirname(at);
      if (parent === at) throw err;
      missing.unshift(at);
      at = parent;
    }
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      // ENOENT although the parent exists: a file system that holds no directories of ours (/proc, /sys).
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      throw Object.assign(new Error(`cannot create directory '${d}'`), { code: 'ENOMKDIR', path: d, syscall: 'mkdir' });
    }
  }
}

/**
 * Make sure `file` can be appended to: its directory exists (created when missing), and the file
 * opens for appending (created empty when missing). Throws the system error of the first step that fails.
 */
export function checkAppendable(file: string): void {
  makeDirectories(path.dirname(file));
  // Opening a FIFO without a reader blocks the whole process (signals included): refuse it, and sockets.
  let info;
  try {
    info = statSync(file);
  } catch {
    info = undefined;
  }
  if (info !== undefined && (info.isFIFO() || info.isSocket())) {
    throw Object.assign(new Error(`not a regular file: '${file}'`), { code: 'ENOTREG', path: file });
  }
  closeSync(openSync(file, 'a'));
}
