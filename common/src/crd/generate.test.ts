import { describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { repoRoot } from '../../../test/env/paths.js';
import { renderCrds, staleCrds } from './generate.js';

describe('generated CRDs', () => {
  test('the committed crds/*.yaml equal what the types generate (run `npm run generate`)', () => {
    expect(staleCrds(join(repoRoot, 'crds'))).toEqual([]);
  });

  test('no schema keeps a construct structural schemas reject', () => {
    for (const { file, yaml } of renderCrds()) {
      expect({ file, patternProperties: yaml.includes('patternProperties') }).toEqual({
        file,
        patternProperties: false,
      });
      expect({ file, anyOf: /\banyOf\b|\bconst\b/.test(yaml) }).toEqual({ file, anyOf: false });
    }
  });
});
