// Paths of the control-plane binaries provisioned by test/env/provision/kubernetes.sh.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { NotProvisionedError } from '../errors.js';
import { cacheDir, pin } from '../paths.js';

export const COMPONENT_BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
] as const;

export type ComponentBinary = (typeof COMPONENT_BINARIES)[number];

export function kubernetesBinDir(): string {
  return join(cacheDir(), `kubernetes-${pin('KUBERNETES_VERSION')}`, 'bin');
}

/** Every control-plane binary's path; throws NotProvisionedError naming the first one missing. */
export function kubernetesBinaries(): Readonly<Record<ComponentBinary, string>> {
  const dir = kubernetesBinDir();
  const paths = {} as Record<ComponentBinary, string>;
  for (const name of COMPONENT_BINARIES) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
    } catch {
      throw new NotProvisionedError(name, path);
    }
    paths[name] = path;
  }
  return paths;
}
