// Where the test bed finds the project, its pinned versions and its cache (outside the checkout).
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Same rule as scripts/cache-dir.sh. */
export function cacheDir(): string {
  return (
    process.env.AMPHI_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'amphi')
  );
}

/** The KEY=VALUE pins of scripts/versions.env. */
export function versions(): Readonly<Record<string, string>> {
  const text = readFileSync(join(repoRoot, 'scripts/versions.env'), 'utf8');
  const pins: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) pins[match[1]!] = match[2]!;
  }
  return pins;
}

export function pin(name: string): string {
  const value = versions()[name];
  if (!value) throw new Error(`scripts/versions.env has no ${name}`);
  return value;
}
