/**
 * A Secret or ConfigMap volume as the kubelet lays it out and updates it (its AtomicWriter):
 *
 *   DIR/..2026_11_24_12_00_00.000000001/   the files of one version
 *   DIR/..data -> ..2026_11_24_...          the current version
 *   DIR/tls.crt -> ..data/tls.crt           what the container opens
 *
 * An update writes a new timestamped directory, points `..data_tmp` at it, renames `..data_tmp` over
 * `..data` (the atomic step), links any new file names, and removes the old directory.
 */
import { mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

let counter = 0;

function versionDir(dir: string, files: Record<string, string>): string {
  const name = `..${new Date().toISOString().replace(/[-:T.Z]/g, '_')}${String(++counter).padStart(9, '0')}`;
  mkdirSync(path.join(dir, name));
  for (const [file, content] of Object.entries(files)) writeFileSync(path.join(dir, name, file), content, { mode: 0o644 });
  return name;
}

export function projectVolume(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  const version = versionDir(dir, files);
  symlinkSync(version, path.join(dir, '..data'));
  for (const file of Object.keys(files)) symlinkSync(path.join('..data', file), path.join(dir, file));
}

export function updateVolume(dir: string, files: Record<string, string>): void {
  const old = readlinkSync(path.join(dir, '..data'));
  const version = versionDir(dir, files);
  symlinkSync(version, path.join(dir, '..data_tmp'));
  renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  for (const file of Object.keys(files))
    if (!existsSync(path.join(dir, file))) symlinkSync(path.join('..data', file), path.join(dir, file));
  rmSync(path.join(dir, old), { recursive: true, force: true });
}
