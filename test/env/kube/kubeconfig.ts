// The one admin kubeconfig shared by the components, the tests, kubectl and helm.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { Certificates } from './certs.js';

const b64 = (pem: string): string => Buffer.from(pem).toString('base64');

/** Writes a self-contained kubeconfig (certificates embedded) for `server` to `path`. */
export function writeKubeconfig(path: string, server: string, certs: Certificates): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'amphi-test', cluster: { server, 'certificate-authority-data': b64(certs.caCert) } },
    ],
    users: [
      {
        name: 'amphi-admin',
        user: {
          'client-certificate-data': b64(certs.cert),
          'client-key-data': b64(certs.key),
        },
      },
    ],
    contexts: [
      {
        name: 'amphi-test',
        context: { cluster: 'amphi-test', user: 'amphi-admin', namespace: 'default' },
      },
    ],
    'current-context': 'amphi-test',
    preferences: {},
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
}
