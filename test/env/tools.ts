// Paths of provisioned command-line tools (kubectl, helm).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NotProvisionedError } from './errors.js';
import { cacheDir, pin } from './paths.js';

function layerBin(name: 'kubectl' | 'helm'): string {
  const pkg = pin('KUBECTL_LAYER_PACKAGE');
  const path = join(cacheDir(), `kubectl-helm-${pkg.slice(pkg.lastIndexOf('@') + 1)}`, 'bin', name);
  if (!existsSync(path)) throw new NotProvisionedError(name, path);
  return path;
}

export const kubectlBin = (): string => layerBin('kubectl');
export const helmBin = (): string => layerBin('helm');
