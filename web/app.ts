/// <reference lib="dom" />
// The local-mode page: create a room and speak, share the link, listen, raise a hand, bring a
// listener on stage, mute; active speaker and counts. Plain DOM on the SDK (sdk/). Test hooks on
// window.amphi: when the join started, when the SDK's connect() resolved, when the first remote
// track and the first audio arrived (performance.now()), and the incoming audio level.
import { ControlApi, RoomClient, type RemoteAudio } from '../sdk/src/index.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

interface Debug {
  joinStartedAt?: number;
  /** RoomClient.connect() resolved: control API join, signalling join, receive transport set up. */
  connectedAt?: number;
  /** The first remote track (consumer created and resumed). */
  firstTrackAt?: number;
  firstAudioAt?: number;
  /** [ms since page load, RMS 0..1] of the incoming audio, every 20 ms. */
  levels: Array<[number, number]>;
  peakSince(t: number): number;
  user?: string;
  room?: string;
  role?: string;
  state?: string;
  /** Every connection state change: [Date.now(), state]. */
  states: Array<[number, string]>;
  /** Every reconnect attempt as it starts: Date.now() and the SDK's backoff that preceded it. */
  reconnects: Array<{ at: number; attempt: number; delayMs: number; hintMs: number }>;
  /** The SDK sends this page's microphone (a producer is open). */
  speaking?: boolean;
}
const debug: Debug = {
  levels: [],
  states: [],
  reconnects: [],
  peakSince(t) {
    let peak = 0;
    for (const [at, rms] of this.levels) if (at >= t && rms > peak) peak = rms;
    return peak;
  },
};
(window as unknown as { amphi: Debug }).amphi = debug;

const params = new URLSearchParams(location.search);
const roomParam = params.get('room');
// ?reconnect-base-ms=N: the first reconnect backoff ceiling (default the SDK's), to watch the jitter.
const reconnectBaseMs = Number(params.get('reconnect-base-ms')) || undefined;
const showError = (e: unknown): void => {
  $('error').textContent = e instanceof Error ? e.message : String(e);
};
const nameInput = $<HTMLInputElement>('name');
nameInput.value = localStorage.getItem('amphi-name') ?? '';

async function session(): Promise<{ user: string; token: string }> {
  const name = nameInput.value.trim() || (roomParam ? 'listener' : 'host');
  localStorage.setItem('amphi-name', name);
  const res = await fetch('/local/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  return (await res.json()) as { user: string; token: string };
}

// Incoming audio: every remote track plays in an <audio> element and feeds one analyser per track.
const audioContext = new AudioContext();
const analysers = new Map<string, { analyser: AnalyserNode; audio: HTMLAudioElement }>();
const buffer = new Float32Array(2048);
setInterval(() => {
  let peak = 0;
  for (const { analyser } of analysers.values()) {
    analyser.getFloatTimeDomainData(buffer);
    let sum = 0;
    for (const v of buffer) sum += v * v;
    peak = Math.max(peak, Math.sqrt(sum / buffer.length));
  }
  const now = performance.now();
  debug.levels.push([now, peak]);
  if (debug.levels.length > 3000) debug.levels.splice(0, 1000);
  if (peak > 0.02 && debug.firstAudioAt === undefined && debug.joinStartedAt !== undefined)
    debug.firstAudioAt = now;
  $('meter').style.width = `${Math.min(300, Math.round(peak * 1000))}px`;
}, 20);

function addTrack(remote: RemoteAudio): void {
  debug.firstTrackAt ??= performance.now();
  const stream = new MediaStream([remote.track]);
  const audio = new Audio();
  audio.srcObject = stream;
  audio.autoplay = true;
  void audio.play().catch(() => undefined);
  const analyser = audioContext.createAnalyser();
  analyser.fftSize = 2048;
  audioContext.createMediaStreamSource(stream).connect(analyser);
  void audioContext.resume();
  analysers.set(remote.consumerId, { analyser, audio });
}

async function enter(roomId: string, asHost: boolean): Promise<void> {
  debug.joinStartedAt = performance.now();
  void audioContext.resume();
  const { user, token } = await session();
  debug.user = user;
  const api = new ControlApi({ baseUrl: location.origin, token });
  if (asHost) {
    const room = await api.createRoom({ title: $<HTMLInputElement>('title').value || 'Room' });
    roomId = room.id;
    history.replaceState(null, '', `/?room=${encodeURIComponent(roomId)}`);
  }
  debug.room = roomId;
  const client = new RoomClient({
    api,
    room: roomId,
    name: nameInput.value.trim() || user,
    ...(reconnectBaseMs ? { backoff: { baseMs: reconnectBaseMs } } : {}),
  });
  client.on('state', (s) => {
    debug.state = s;
    debug.states.push([Date.now(), s]);
    debug.speaking = client.speaking;
    $('state').textContent = s;
  });
  client.on('reconnectAttempt', ({ attempt, delayMs, hintMs }) =>
    debug.reconnects.push({ at: Date.now(), attempt, delayMs, hintMs }),
  );
  client.on('track', addTrack);
  client.on('trackEnded', ({ consumerId }) => {
    const entry = analysers.get(consumerId);
    entry?.audio.pause();
    analysers.delete(consumerId);
  });
  // Listeners connected to the media pods (room-wide, every few seconds). They are the count shown
  // once they arrive: the control API's participant count (shown until then) keeps whoever closed
  // the tab until its presence grace (20 s) has passed, and two sources would flip the number.
  let podCounts = false;
  client.on('counts', (c) => {
    podCounts = true;
    $('listeners').textContent = String(c.listeners);
  });
  // The active speaker by name: this page's own, or the one its audio track came with (a
  // newcomer hears who is speaking before that speaker's track arrives: named once it does).
  const names = new Map<string, string>([[user, nameInput.value.trim() || user]]);
  let activeUser: string | undefined;
  const showActive = (): void => {
    if (activeUser === undefined) return;
    $('active').textContent = names.get(activeUser) ?? activeUser;
    $('active').title = activeUser;
  };
  client.on('track', (remote) => {
    if (remote.name) names.set(remote.user, remote.name);
    if (remote.user === activeUser) showActive();
  });
  client.on('activeSpeaker', ({ user: who }) => {
    activeUser = who;
    showActive();
  });
  client.on('invited', () => ($('accept').hidden = false));
  client.on('error', (e) => console.warn(e));
  client.on('joined', (j) => {
    debug.role = j.role;
    $('role').textContent = j.role;
    $('raise').hidden = j.role !== 'listener';
    $('mute').hidden = j.role === 'listener';
  });
  $('signin').hidden = true;
  $('room').hidden = false;
  $('me').textContent = user;
  const link = `${location.origin}/?room=${encodeURIComponent(roomId)}`;
  $<HTMLAnchorElement>('share').href = link;
  $('share').textContent = link;
  $('copy').onclick = () => void navigator.clipboard?.writeText(link);

  await client.connect();
  debug.connectedAt ??= performance.now();
  const speak = async (): Promise<void> => {
    const media = await navigator.mediaDevices.getUserMedia({ audio: true });
    await client.speak(media.getAudioTracks()[0]!);
    debug.speaking = client.speaking;
  };
  if (client.role !== 'listener') await speak();

  $('mute').onclick = () =>
    void client.setMuted(!client.muted).then(() => {
      $('mute').textContent = client.muted ? 'Unmute' : 'Mute';
    }, showError);
  $('raise').onclick = () =>
    void client.raiseHand().then(() => ($('raise').textContent = 'Hand raised'), showError);
  $('accept').onclick = () =>
    void (async () => {
      $('accept').hidden = true;
      await client.acceptInvitation();
      await speak();
    })().catch(showError);
  $('leave').onclick = () => void client.leave().then(() => location.assign('/'));

  // Room state (stage, hands, counts) every second.
  const refresh = async (): Promise<void> => {
    const room = await api.getRoom(roomId);
    $('room-title').textContent = room.title;
    $('phase').textContent = room.phase;
    $('stage-count').textContent = String(room.counts.stage);
    $('hand-count').textContent = String(room.counts.hands);
    if (!podCounts) $('listeners').textContent = String(room.counts.listeners);
    const stage = $('stage');
    stage.replaceChildren(
      ...[...room.hosts, ...room.moderators, ...room.speakers].map((u) => {
        const li = document.createElement('li');
        li.textContent = `${u}${room.muted.includes(u) ? ' (muted)' : ''}`;
        return li;
      }),
    );
    const moderator = room.hosts.includes(user) || room.moderators.includes(user);
    $('hands-box').hidden = !moderator;
    $('hands').replaceChildren(
      ...room.handQueue.map((h) => {
        const li = document.createElement('li');
        li.textContent = `${h.user} `;
        const button = document.createElement('button');
        button.textContent = 'Bring on stage';
        button.dataset.user = h.user;
        button.className = 'invite';
        button.onclick = () => void client.invite(h.user).catch(showError);
        li.append(button);
        return li;
      }),
    );
    if (room.invited.includes(user)) $('accept').hidden = false;
  };
  const loop = (): void => {
    void refresh()
      .catch(() => undefined)
      .finally(() => setTimeout(loop, 1000));
  };
  loop();
}

if (roomParam) {
  $('create-row').hidden = true;
  $('join-row').hidden = false;
  $('join-room').textContent = roomParam;
  $('join').onclick = () => void enter(roomParam, false).catch(showError);
} else {
  $('create').onclick = () => void enter('', true).catch(showError);
}
