// Writes every generated artefact: crds/*.yaml and the SDK's control API types
// (sdk/src/generated/control-api.ts, from the OpenAPI document). Run with `npm run generate`.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeCrds } from '../common/src/crd/generate.js';
import { writeControlApiTypes } from '../sdk/generate.js';
import { repoRoot } from '../test/env/paths.js';

for (const path of writeCrds(join(repoRoot, 'crds'))) console.log(`wrote ${path}`);
mkdirSync(join(repoRoot, 'sdk/src/generated'), { recursive: true });
console.log(
  `wrote ${await writeControlApiTypes(join(repoRoot, 'sdk/src/generated/control-api.ts'))}`,
);
