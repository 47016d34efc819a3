// amphi client SDK: the control API (types generated from its OpenAPI document) and the media pod
// signalling with mediasoup-client. Browser first; runs in Node with a WebRTC implementation
// installed globally.
export { ApiError, ControlApi, type ControlApiOptions, type ParticipantAction } from './api.js';
export type {
  ApiOperation,
  CallInput,
  CreateRoomRequest,
  HandEntry,
  InvitationDecision,
  JoinRequest,
  JoinResponse,
  PathParams,
  Problem,
  QueryParams,
  RequestBody,
  ResponseBody,
  Role,
  RoomList,
  RoomState,
  RoomSummary,
  StageResult,
} from './api.js';
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
