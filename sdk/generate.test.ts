import { describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { repoRoot } from '../test/env/paths.js';
import { controlApiTypesStale } from './generate.js';

describe('generated SDK types (sdk/src/generated/control-api.ts)', () => {
  test('the committed file equals what the OpenAPI document generates (run `npm run generate`)', async () => {
    expect(await controlApiTypesStale(join(repoRoot, 'sdk/src/generated/control-api.ts'))).toBe(
      false,
    );
  });
});
