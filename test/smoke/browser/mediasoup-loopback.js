// Browser side of test/smoke/chromium.test.ts, bundled with esbuild (mediasoup-client inside).
// The page sends its (fake) microphone to mediasoup, consumes that producer back and measures the
// decoded audio. Signalling goes through window.amphiSignal(method, args), which the test exposes
// with Playwright (test/env/mediasoup.ts SmokeSignalling on the Node side).
/* global window, navigator, document, setTimeout, MediaStream, AudioContext */
import { Device } from 'mediasoup-client';

const signal = (method, ...args) => window.amphiSignal(method, args);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function wireConnect(transport) {
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    signal('connect', transport.id, dtlsParameters).then(callback, errback);
  });
}

async function inboundAudioStats(consumer) {
  let inbound;
  (await consumer.getStats()).forEach((stats) => {
    if (stats.type === 'inbound-rtp' && stats.kind === 'audio') inbound = stats;
  });
  return inbound;
}

window.amphiLoopback = async ({ timeoutMs, samplesWanted, minRms }) => {
  const device = new Device({ handlerName: 'Chrome111' });
  await device.load({ routerRtpCapabilities: await signal('routerRtpCapabilities') });

  const microphone = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
  const [track] = microphone.getAudioTracks();

  const sendTransport = device.createSendTransport(await signal('createTransport'));
  wireConnect(sendTransport);
  sendTransport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
    signal('produce', sendTransport.id, kind, rtpParameters).then(callback, errback);
  });
  const producer = await sendTransport.produce({ track });

  const recvTransport = device.createRecvTransport(await signal('createTransport'));
  wireConnect(recvTransport);
  const info = await signal('consume', recvTransport.id, producer.id, device.rtpCapabilities);
  const consumer = await recvTransport.consume(info);
  await signal('resume', info.id);

  // Chrome decodes remote audio only while something renders it: a (muted) audio element, and an
  // analyser for the decoded samples themselves. (inbound-rtp totalAudioEnergy stays 0 here: it is
  // measured at playout, which the muted element and headless --mute-audio silence.)
  const remote = new MediaStream([consumer.track]);
  const audio = document.createElement('audio');
  audio.muted = true;
  audio.srcObject = remote;
  document.body.append(audio);
  await audio.play();
  const audioContext = new AudioContext();
  await audioContext.resume();
  const analyser = audioContext.createAnalyser();
  analyser.fftSize = 2048;
  audioContext.createMediaStreamSource(remote).connect(analyser);
  const buffer = new Float32Array(analyser.fftSize);

  let peakRms = 0;
  let inbound;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    analyser.getFloatTimeDomainData(buffer);
    let sum = 0;
    for (const sample of buffer) sum += sample * sample;
    peakRms = Math.max(peakRms, Math.sqrt(sum / buffer.length));
    inbound = await inboundAudioStats(consumer);
    if (inbound && inbound.totalSamplesReceived >= samplesWanted && peakRms >= minRms) {
      break;
    }
    await sleep(50);
  }

  // Everything stays open (the test checks the server side next; closing the browser ends it).
  return {
    userAgent: navigator.userAgent,
    handlerName: device.handlerName,
    microphoneLabel: track.label,
    producerId: producer.id,
    consumerId: consumer.id,
    inbound: inbound && {
      packetsReceived: inbound.packetsReceived,
      bytesReceived: inbound.bytesReceived,
      totalSamplesReceived: inbound.totalSamplesReceived,
      codecId: inbound.codecId,
    },
    peakRms,
  };
};
