// Type checking, lint and formatting run as tests, so their failures land in the same results.
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../env/paths.js';

function run(bin: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [join(repoRoot, 'node_modules', bin), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('static checks', () => {
  test('TypeScript compiles in strict mode', () => {
    const { status, output } = run('typescript/bin/tsc', ['-p', 'tsconfig.json', '--noEmit']);
    expect(output).toBe('');
    expect(status).toBe(0);
  }, 300_000);

  test('eslint reports nothing', () => {
    const { status, output } = run('eslint/bin/eslint.js', ['.', '--max-warnings=0']);
    expect(output.trim()).toBe('');
    expect(status).toBe(0);
  }, 300_000);

  test('prettier finds every file formatted', () => {
    const { status, output } = run('prettier/bin/prettier.cjs', [
      '--check',
      '.',
      '--log-level=warn',
    ]);
    expect(output.trim()).toBe('');
    expect(status).toBe(0);
  }, 120_000);
});
