// amphi client SDK: the control API (typed from the API's own schemas) and the media pod signalling
// with mediasoup-client. Browser first; runs in Node with a WebRTC implementation installed globally.
export { ApiError, ControlApi, type ControlApiOptions, type ParticipantAction } from './api.js';
export type { CreateRoomRequest, JoinResponse, RoomState, RoomSummary, HandEntry } from './api.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export {
  RoomClient,
  canProduce,
  type ConnectionState,
  type RemoteAudio,
  type RoomClientEvents,
  type RoomClientOptions,
  type RoomEventData,
} from './room.js';
export { SignalingError, SignalingSocket } from './signaling.js';
