// A real Apache Cassandra 5.0 node for tests: the Maven Central jars provisioned by
// test/env/provision/cassandra.sh, run in their own Java 17 JVM on loopback with throwaway data.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cassandra from 'cassandra-driver';
import { NotProvisionedError } from './errors.js';
import { ManagedProcess, runDir } from './managed-process.js';
import { cacheDir, pin, repoRoot } from './paths.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

const configDir = join(repoRoot, 'test/env/cassandra');
const HOST = '127.0.0.1';
/** What SimpleSnitch (cassandra.template.yaml) calls the data centre. */
const DATA_CENTER = 'datacenter1';

export interface CassandraOptions {
  /** Maximum heap in MiB (-Xmx). Default 768. */
  heapMb?: number;
  /** Initial heap in MiB (-Xms). Default 256: Cassandra mlockall()s what is committed at start. */
  initialHeapMb?: number;
  /** Cap on direct (off-heap NIO) memory in MiB. Default 256. */
  maxDirectMemoryMb?: number;
  /** How long to wait for CQL to answer. Default 180 s. */
  startTimeoutMs?: number;
  clusterName?: string;
  /** Start the local JMX server on a free port (for nodetool-style access). Default false: ~0.6 s. */
  jmx?: boolean;
  /**
   * Compile with C1 only (-XX:TieredStopAtLevel=1): a much cheaper start on two cores, slower
   * steady state. Default true; turn off for anything that measures Cassandra's throughput.
   */
  quickJit?: boolean;
  /** Use the class-data-sharing archive made by the provisioning when present. Default true. */
  classDataSharing?: boolean;
  /** Provisioning only: write a dynamic CDS archive here when the JVM exits (needs a graceful stop). */
  archiveClassesAtExit?: string;
  /** More JVM arguments, appended after the defaults (so they win). */
  extraJvmArgs?: readonly string[];
}

export interface StopOptions {
  /**
   * SIGTERM and wait for Cassandra's drain (about 4 s; needed to write a CDS archive). The default
   * is SIGKILL: the data directory is deleted anyway.
   */
  graceful?: boolean;
  /** With `graceful`, how long before SIGKILL. Default 30 s. */
  graceMs?: number;
}

export interface CassandraHandle {
  host: string;
  /** CQL native transport port. */
  port: number;
  /** `host:port`, for cassandra-driver's `contactPoints`. */
  contactPoint: string;
  localDataCenter: string;
  storagePort: number;
  /** Local JMX port, when started with `jmx: true`. */
  jmxPort: number | undefined;
  /** release_version reported by the node. */
  version: string;
  /** Cassandra's INFO log; `process.logFile` holds WARN and up plus the JVM's own output. */
  systemLog: string;
  process: ManagedProcess;
  /** Milliseconds from spawn to the first answered CQL query. */
  startupMs: number;
  /** Stops the JVM (its whole process group) and deletes the data directory. */
  stop(options?: StopOptions): Promise<void>;
}

interface Installation {
  version: string;
  home: string;
  classpath: string;
  java: string;
  jamm: string;
}

/** Where the provisioning keeps the class-data-sharing archive of a Cassandra version. */
export function cassandraCdsArchive(home = cassandraHome()): string {
  return join(home, 'cds', 'cassandra.jsa');
}

function cassandraHome(): string {
  return join(cacheDir(), `cassandra-${pin('CASSANDRA_VERSION')}`);
}

function installation(): Installation {
  const version = pin('CASSANDRA_VERSION');
  const home = cassandraHome();
  const lib = join(home, 'lib');
  if (!existsSync(join(home, '.done'))) {
    throw new NotProvisionedError(`Cassandra ${version} (Maven Central jars)`, lib);
  }
  const java = process.env.AMPHI_JAVA17 ?? readFileSync(join(home, 'java17'), 'utf8').trim();
  if (!existsSync(java)) throw new NotProvisionedError('Java 17 for Cassandra', java);
  // An explicit, sorted class path: a CDS archive only matches the exact class path it was made with.
  const jars = readdirSync(lib)
    .filter((name) => name.endsWith('.jar'))
    .sort();
  const jamm = jars.find((name) => /^jamm-[\d.]+\.jar$/.test(name));
  if (!jamm)
    throw new NotProvisionedError('the jamm agent jar of Cassandra', join(lib, 'jamm-*.jar'));
  return {
    version,
    home,
    classpath: jars.map((name) => join(lib, name)).join(':'),
    java,
    jamm: join(lib, jamm),
  };
}

/** `count` distinct free loopback ports. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function fillTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\$\{([A-Z_]+)\}/g, (whole, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`cassandra.template.yaml: no value for ${whole}`);
    return String(value);
  });
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = createConnection({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolveOpen(true);
    });
    socket.once('error', () => resolveOpen(false));
  });
}

/** The node's release_version once a CQL query succeeds. */
async function cqlReleaseVersion(port: number): Promise<string | undefined> {
  if (!(await tcpOpen(port))) return undefined;
  const client = new cassandra.Client({
    contactPoints: [`${HOST}:${port}`],
    localDataCenter: DATA_CENTER,
    socketOptions: { connectTimeout: 5_000, readTimeout: 10_000 },
  });
  try {
    await client.connect();
    const result = await client.execute('SELECT release_version FROM system.local');
    return String(result.first()?.get('release_version') ?? '') || undefined;
  } finally {
    await client.shutdown();
  }
}

/** The last ERROR entries of system.log with their first line of detail (the exception). */
function loggedErrors(systemLog: string): string {
  let lines: string[];
  try {
    lines = readFileSync(systemLog, 'utf8').split('\n');
  } catch {
    return '';
  }
  const entries: string[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('ERROR')) return;
    const detail = lines[i + 1];
    entries.push(detail && !/^\s+at /.test(detail) ? `${line}\n${detail}` : line);
  });
  return entries.length > 0
    ? `\nERROR entries of ${systemLog}:\n${entries.slice(-3).join('\n')}`
    : '';
}

/** Starts a single Cassandra node and resolves once it answers CQL. */
export async function startCassandra(options: CassandraOptions = {}): Promise<CassandraHandle> {
  const install = installation();
  const [storagePort, port, jmxPort] = (await freePorts(3)) as [number, number, number];
  const workDir = mkdtempSync(join(tmpdir(), 'amphi-cassandra-'));
  const confDir = join(workDir, 'conf');
  const storageDir = join(workDir, 'storage');
  const triggersDir = join(workDir, 'triggers');
  const name = `cassandra-${port}`;
  const logDir = join(runDir(), 'logs', name);
  for (const dir of [confDir, storageDir, triggersDir, logDir]) mkdirSync(dir, { recursive: true });
  // A port can come round again within a run: start the INFO log afresh (logback appends).
  rmSync(join(logDir, 'system.log'), { force: true });

  const yamlFile = join(confDir, 'cassandra.yaml');
  await writeFile(
    yamlFile,
    fillTemplate(readFileSync(join(configDir, 'cassandra.template.yaml'), 'utf8'), {
      CLUSTER_NAME: options.clusterName ?? 'amphi-test',
      STORAGE_PORT: storagePort,
      NATIVE_TRANSPORT_PORT: port,
    }),
  );

  const cdsArchive = cassandraCdsArchive(install.home);
  const useCds =
    (options.classDataSharing ?? true) && !options.archiveClassesAtExit && existsSync(cdsArchive);
  const cds = options.archiveClassesAtExit
    ? [`-XX:ArchiveClassesAtExit=${options.archiveClassesAtExit}`]
    : useCds
      ? [`-XX:SharedArchiveFile=${cdsArchive}`]
      : [];
  const args = [
    `@${join(configDir, 'jvm17-server.options')}`,
    `-Xms${options.initialHeapMb ?? 256}m`,
    `-Xmx${options.heapMb ?? 768}m`,
    `-XX:MaxDirectMemorySize=${options.maxDirectMemoryMb ?? 256}m`,
    ...((options.quickJit ?? true) ? ['-XX:TieredStopAtLevel=1'] : []),
    // The archive is made with the jamm agent loaded, which HotSpot only allows as a diagnostic.
    ...(cds.length > 0
      ? ['-XX:+UnlockDiagnosticVMOptions', '-XX:+AllowArchivingWithJavaAgent', ...cds]
      : []),
    `-XX:ErrorFile=${join(logDir, 'hs_err_%p.log')}`,
    `-javaagent:${install.jamm}`,
    '-Dcassandra-foreground=yes',
    `-Dcassandra.config=file://${yamlFile}`,
    `-Dcassandra.storagedir=${storageDir}`,
    `-Dcassandra.triggers_dir=${triggersDir}`,
    `-Dcassandra.logdir=${logDir}`,
    `-Dlogback.configurationFile=${join(configDir, 'logback.xml')}`,
    ...(options.jmx ? [`-Dcassandra.jmx.local.port=${jmxPort}`] : []),
    // Single fresh node: nothing to wait for, no one to tell about a shutdown.
    '-Dcassandra.skip_wait_for_gossip_to_settle=0',
    '-Dcassandra.superuser_setup_delay_ms=0',
    '-Dcassandra.ring_delay_ms=1000',
    '-Dcassandra.shutdown_announce_in_ms=0',
    // Skips measuring the memtable row overhead at start (2+ s of CPU); 180 is what it measures.
    '-Dcassandra.memtable.row_overhead_size=180',
    // Throwaway data: no fsync, no flush after each schema change.
    '-Dcassandra.unsafesystem=true',
    '-Dcassandra.skip_sync=true',
    '-Dcassandra.test.flush_local_schema_changes=false',
    ...(options.extraJvmArgs ?? []),
    '-cp',
    install.classpath,
    'org.apache.cassandra.service.CassandraDaemon',
  ];

  const started = Date.now();
  const proc = new ManagedProcess({ name, command: install.java, args, cwd: workDir, logDir });
  let stopping: Promise<void> | undefined;
  const stop = (stopOptions: StopOptions = {}): Promise<void> => {
    stopping ??= (async () => {
      try {
        if (stopOptions.graceful) await proc.stop(stopOptions.graceMs ?? 30_000);
        else await proc.kill();
      } finally {
        rmSync(workDir, { recursive: true, force: true });
      }
    })();
    return stopping;
  };

  try {
    const version = await waitFor(() => cqlReleaseVersion(port), {
      what: `Cassandra ${install.version} to answer CQL on ${HOST}:${port} (log: ${join(logDir, 'system.log')})`,
      timeoutMs: options.startTimeoutMs ?? 180_000,
      intervalMs: 200,
      abortIf: () => {
        const reason = proc.exitReason();
        return reason && reason + loggedErrors(join(logDir, 'system.log'));
      },
    });
    return {
      host: HOST,
      port,
      contactPoint: `${HOST}:${port}`,
      localDataCenter: DATA_CENTER,
      storagePort,
      jmxPort: options.jmx ? jmxPort : undefined,
      version,
      systemLog: join(logDir, 'system.log'),
      process: proc,
      startupMs: Date.now() - started,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
