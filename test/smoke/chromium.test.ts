// Headless Chromium (Debian's) does WebRTC with the project's mediasoup worker: a page served by a
// local HTTP server sends its fake microphone to a WebRtcServer port as a producer, consumes that
// producer back through the worker and decodes audio with energy.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { types } from 'mediasoup';
import { launchChromium, type LaunchedChromium } from '../env/chromium.js';
import { createWebRtcTestBed, type SmokeSignalling } from '../env/mediasoup.js';
import { repoRoot } from '../env/paths.js';

const SAMPLES_WANTED = 48_000; // one second of decoded audio at 48 kHz
// RMS of the decoded samples (full scale 1.0) that counts as sound: the fake microphone beeps.
const MIN_RMS = 0.05;

interface LoopbackResult {
  userAgent: string;
  handlerName: string;
  microphoneLabel: string;
  producerId: string;
  consumerId: string;
  inbound?: {
    packetsReceived: number;
    bytesReceived: number;
    totalSamplesReceived: number;
  };
  peakRms: number;
}

const PAGE = `<!doctype html>
<html>
  <head><meta charset="utf-8"><title>amphi smoke</title></head>
  <body><script src="/loopback.js"></script></body>
</html>
`;

async function bundlePageScript(): Promise<string> {
  const result = await build({
    entryPoints: [join(repoRoot, 'test/smoke/browser/mediasoup-loopback.js')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

async function servePage(script: string): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    if (request.url === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (request.url === '/loopback.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
    } else {
      response.writeHead(404).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  // http://127.0.0.1 is a secure context: getUserMedia and WebRTC work without TLS.
  return { server, url: `http://127.0.0.1:${port}/` };
}

describe('headless Chromium does WebRTC with the project mediasoup worker', () => {
  let bed: Awaited<ReturnType<typeof createWebRtcTestBed>>;
  let browser: LaunchedChromium | undefined;
  let server: Server | undefined;

  beforeAll(async () => {
    bed = await createWebRtcTestBed();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    server?.closeAllConnections();
    bed?.signalling.close();
    bed?.worker.close();
  });

  test('fake microphone -> mediasoup producer -> consumer -> decoded in the page', async () => {
    const served = await servePage(await bundlePageScript());
    server = served.server;

    browser = await launchChromium({ extraArgs: ['--autoplay-policy=no-user-gesture-required'] });
    const page = await browser.context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const signalling: SmokeSignalling = bed.signalling;
    await page.exposeFunction('amphiSignal', async (method: string, args: unknown[]) => {
      switch (method) {
        case 'routerRtpCapabilities':
          return signalling.routerRtpCapabilities();
        case 'createTransport':
          return signalling.createTransport();
        case 'connect':
          return signalling.connect(args[0] as string, args[1] as types.DtlsParameters);
        case 'produce':
          return signalling.produce(
            args[0] as string,
            args[1] as types.MediaKind,
            args[2] as types.RtpParameters,
          );
        case 'consume':
          return signalling.consume(
            args[0] as string,
            args[1] as string,
            args[2] as types.RtpCapabilities,
          );
        case 'resume':
          return signalling.resume(args[0] as string);
        default:
          throw new Error(`unknown signalling method ${method}`);
      }
    });
    await page.goto(served.url);
    await page.waitForFunction(() => 'amphiLoopback' in globalThis);

    const result = (await page.evaluate(
      (options) =>
        (
          globalThis as unknown as {
            amphiLoopback(o: typeof options): Promise<unknown>;
          }
        ).amphiLoopback(options),
      { timeoutMs: 20_000, samplesWanted: SAMPLES_WANTED, minRms: MIN_RMS },
    )) as LoopbackResult;
    expect(pageErrors).toEqual([]);

    // It is Debian's headless Chromium, and mediasoup-client drove its native WebRTC stack.
    expect(result.userAgent).toContain('HeadlessChrome/');
    expect(result.handlerName).toBe('Chrome111');
    expect(result.microphoneLabel).not.toBe('');

    // The worker received RTP from the browser's producer ...
    const producer = signalling.producers.get(result.producerId)!;
    const [producerStats] = await producer.getStats();
    expect(producerStats?.mimeType).toBe('audio/opus');
    expect(producerStats?.packetCount).toBeGreaterThan(0);
    expect(producerStats?.byteCount).toBeGreaterThan(0);
    // ... and sent it back on the consumer,
    const consumerStats = await signalling.consumers.get(result.consumerId)!.getStats();
    const outbound = consumerStats.find((stats) => stats.type === 'outbound-rtp');
    expect(outbound?.packetCount).toBeGreaterThan(0);
    for (const transport of signalling.transports.values()) {
      expect(transport.dtlsState).toBe('connected');
      expect(transport.iceSelectedTuple?.localPort).toBe(bed.port);
    }

    // ... which the page decoded: a second of samples, with energy (an analyser on the track).
    expect(result.inbound).toBeDefined();
    expect(result.inbound!.packetsReceived).toBeGreaterThan(0);
    expect(result.inbound!.totalSamplesReceived).toBeGreaterThanOrEqual(SAMPLES_WANTED);
    expect(result.peakRms).toBeGreaterThanOrEqual(MIN_RMS);
  });
});
