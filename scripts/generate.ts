// Writes every generated artefact (today: crds/*.yaml). Run with `npm run generate`.
import { join } from 'node:path';
import { writeCrds } from '../common/src/crd/generate.js';
import { repoRoot } from '../test/env/paths.js';

for (const path of writeCrds(join(repoRoot, 'crds'))) console.log(`wrote ${path}`);
