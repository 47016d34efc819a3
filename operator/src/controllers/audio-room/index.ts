// The AudioRoom controller: placement passes over the scheduler, status, routing table, finalizer.
export {
  createAudioRoomController,
  type AudioRoomController,
  type AudioRoomControllerDeps,
} from './controller.js';
export { buildSnapshot, HeartbeatIndex } from './snapshot.js';
export { desiredStatus, endedStatus } from './status.js';
export { routeOf, assignmentsOf } from './routes.js';
export * from './types.js';
