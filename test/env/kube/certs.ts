// Per-run certificates for the test control plane, made with the openssl CLI (as kwokctl does):
// one self-signed CA and one admin certificate (O=system:masters, serverAuth + clientAuth) that
// serves the API server, authenticates every component and the tests, and whose key signs
// service-account tokens.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TestBedError } from '../errors.js';

const run = promisify(execFile);

export interface Certificates {
  caCertFile: string;
  certFile: string;
  keyFile: string;
  /** The admin key's public half: verifies service-account tokens. */
  publicKeyFile: string;
  caCert: string;
  cert: string;
  key: string;
}

/** Names the API server answers to, in-cluster and on the loopback. */
const SANS = [
  'DNS:localhost',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster',
  'DNS:kubernetes.default.svc.cluster.local',
  'IP:127.0.0.1',
  'IP:10.96.0.1',
];

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new TestBedError('the openssl CLI is not on PATH (Debian package openssl)');
    }
    throw new TestBedError(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

/**
 * Writes ca.crt, ca.key, admin.crt, admin.key and admin.pub into `dir` (EC P-256; the CA is valid
 * ten years, the admin certificate one).
 */
export async function generateCertificates(dir: string): Promise<Certificates> {
  // No argument below contains a space: each command is written as one line and split.
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
  const cmd = (line: string): string[] => line.trim().split(/\s+/);
  await openssl(
    cmd(`req -x509 ${ec} -keyout ca.key -out ca.crt -days 3650 -subj /CN=amphi-test-ca
      -addext basicConstraints=critical,CA:TRUE
      -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature`),
    dir,
  );
  await openssl(
    cmd(
      `req -new ${ec} -keyout admin.key -out admin.csr -subj /O=system:masters/CN=kubernetes-admin`,
    ),
    dir,
  );
  writeFileSync(
    join(dir, 'admin.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=${SANS.join(',')}`,
      '',
    ].join('\n'),
  );
  await openssl(
    cmd(`x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365
      -extfile admin.ext -out admin.crt`),
    dir,
  );
  await openssl(['pkey', '-in', 'admin.key', '-pubout', '-out', 'admin.pub'], dir);
  const caCertFile = join(dir, 'ca.crt');
  const certFile = join(dir, 'admin.crt');
  const keyFile = join(dir, 'admin.key');
  return {
    caCertFile,
    certFile,
    keyFile,
    publicKeyFile: join(dir, 'admin.pub'),
    caCert: readFileSync(caCertFile, 'utf8'),
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
  };
}
