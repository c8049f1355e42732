// The signalling protocol, mirroring crates/samla-protocol/src/messages.rs. Both directions
// are JSON objects tagged by `type` (snake_case); keep this file in step with the Rust enums.

/** The protocol version sent in `hello` (samla_protocol::PROTOCOL_VERSION). */
export const PROTOCOL_VERSION = 1;
/** How long the server keeps a dropped seat for `resume` (samla_protocol::RESUME_GRACE_SECS). */
export const RESUME_GRACE_SECS = 60;

/** 9 to 11 digits, never starting with 0, as a string. */
export type MeetingId = string;
/** A participant's number within one meeting. */
export type ParticipantId = number;

export type Role = "host" | "co_host" | "participant";
export type TrackKind = "audio" | "camera" | "screen";
export type ChatPolicy = "everyone" | "hosts_only" | "off";
/** Who may share a screen or a window. */
export type SharePolicy = "everyone" | "hosts_only";
export type Reaction = "thumbs_up" | "clap" | "heart" | "laugh" | "surprised" | "celebrate";
export type LeaveReason = "left" | "removed" | "timed_out" | "moved_to_waiting_room";
export type CloseReason = "left" | "denied" | "removed" | "meeting_ended" | "replaced";
export type ErrorCode =
  | "malformed"
  | "unknown_message"
  | "message_too_large"
  | "unsupported_version"
  | "out_of_order"
  | "meeting_not_found"
  | "meeting_ended"
  | "passcode_required"
  | "wrong_passcode"
  | "too_many_attempts"
  | "meeting_locked"
  | "sign_in_required"
  | "invalid_token"
  | "removed_from_meeting"
  | "resume_failed"
  | "not_allowed"
  | "participant_not_found"
  | "chat_not_allowed"
  | "invalid_argument"
  | "internal";

export const REACTIONS: readonly Reaction[] = ["thumbs_up", "clap", "heart", "laugh", "surprised", "celebrate"];

/** Limits the server holds polls to (samla_protocol's MAX_POLL_*). */
export const MAX_POLL_QUESTION_CHARS = 300;
export const MAX_POLL_OPTION_CHARS = 100;
export const MAX_POLL_OPTIONS = 10;

/** A poll as one participant sees it. */
export interface PollView {
  /** Increases with each poll of the meeting. */
  id: number;
  by: ParticipantId;
  question: string;
  options: string[];
  /** Whether one may pick more than one answer. */
  multiple: boolean;
  /** Still taking answers. */
  open: boolean;
  /** How many have answered. */
  answered: number;
  /** How many picked each option, in order: for hosts and co-hosts always, for everyone once
   * shared. Never per person. */
  results?: number[];
  /** Whether the results have been shared with everyone. */
  shared: boolean;
  /** My own answer (option indexes), empty if none. */
  mine: number[];
}

/** A participant's answer without words; it stays until changed or cleared, unlike a reaction. */
export type Feedback = "yes" | "no" | "slower" | "faster";
export const FEEDBACK: readonly Feedback[] = ["yes", "no", "slower", "faster"];

export function isModerator(role: Role | null | undefined): boolean {
  return role === "host" || role === "co_host";
}

export type ChatTarget =
  | { kind: "everyone" }
  | { kind: "hosts" }
  | { kind: "participant"; id: ParticipantId };

export interface PublishedTrack {
  mid: string;
  kind: TrackKind;
}

export interface RemoteTrack {
  mid: string;
  participant: ParticipantId;
  kind: TrackKind;
}

export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface MeetingState {
  id: MeetingId;
  topic: string;
  locked: boolean;
  waiting_room: boolean;
  chat_policy: ChatPolicy;
  /** Who may share a screen or a window. */
  share_policy: SharePolicy;
  /** People who join are muted on arrival (hosts and co-hosts excepted). */
  mute_on_entry: boolean;
  /** Participants may unmute themselves (see ParticipantInfo.may_unmute). */
  self_unmute: boolean;
  /**
   * The participant a host put in the spotlight: everyone's main picture, until a host ends
   * it or they leave the meeting.
   */
  spotlight: ParticipantId | null;
}

export interface ParticipantInfo {
  id: ParticipantId;
  name: string;
  role: Role;
  audio_muted: boolean;
  video_on: boolean;
  hand_raised: boolean;
  /** False while the connection is down and the seat is kept for a resume. */
  connected: boolean;
  /** Joined with an account of the organisation rather than as a guest. */
  signed_in: boolean;
  /**
   * May turn the microphone on: hosts and co-hosts always; others when the meeting lets
   * participants unmute themselves, or after a host asked them to.
   */
  may_unmute: boolean;
  /** Their answer without words, until they change it or a host clears it. */
  feedback: Feedback | null;
}

export interface WaitingInfo {
  id: ParticipantId;
  name: string;
  signed_in: boolean;
}

export interface ChatMessage {
  seq: number;
  from: ParticipantId;
  from_name: string;
  to: ChatTarget;
  text: string;
  /** Milliseconds since the Unix epoch, server clock. */
  sent_at_ms: number;
}

// ---- client → server ---------------------------------------------------------------------

export type ClientMessage =
  | { type: "hello"; version: number; client?: string }
  | {
      type: "join";
      meeting_id: MeetingId;
      display_name: string;
      passcode?: string;
      token?: string;
      client_id?: string;
    }
  | { type: "resume"; meeting_id: MeetingId; resume_token: string }
  | { type: "leave" }
  // host and co-host actions
  | { type: "admit"; participant: ParticipantId }
  | { type: "admit_all" }
  | { type: "deny"; participant: ParticipantId }
  | { type: "send_to_waiting_room"; participant: ParticipantId }
  | { type: "set_locked"; locked: boolean }
  | { type: "end_for_all" }
  | { type: "remove"; participant: ParticipantId }
  | { type: "set_role"; participant: ParticipantId; role: Role }
  | { type: "hand_over_host"; participant: ParticipantId }
  | { type: "mute"; participant: ParticipantId }
  | { type: "mute_all" }
  | { type: "ask_to_unmute"; participant: ParticipantId }
  | { type: "set_chat_policy"; policy: ChatPolicy }
  | { type: "set_share_policy"; policy: SharePolicy }
  | { type: "set_mute_on_entry"; mute_on_entry: boolean }
  | { type: "set_self_unmute"; allowed: boolean }
  | { type: "set_spotlight"; participant: ParticipantId | null }
  // anyone
  | { type: "set_media"; audio_muted: boolean; video_on: boolean }
  | { type: "raise_hand" }
  | { type: "lower_hand"; participant?: ParticipantId }
  | { type: "rename"; participant?: ParticipantId; name: string }
  | { type: "react"; reaction: Reaction }
  | { type: "set_feedback"; feedback: Feedback | null }
  | { type: "clear_feedback" }
  // polls: starting, ending and sharing are for hosts and co-hosts
  | { type: "start_poll"; question: string; options: string[]; multiple: boolean }
  | { type: "vote"; poll: number; choices: number[] }
  | { type: "end_poll"; poll: number }
  | { type: "share_poll_results"; poll: number }
  | { type: "chat"; to: ChatTarget; text: string }
  // media
  | { type: "media_offer"; sdp: string; tracks: PublishedTrack[] }
  | { type: "media_answer"; sdp: string }
  | { type: "subscribe_video"; participant: ParticipantId; kind: TrackKind; max_height: number };

export type ClientMessageType = ClientMessage["type"];

/** Every `type` a client may send (ClientMessage::TYPES). */
export const CLIENT_MESSAGE_TYPES: readonly ClientMessageType[] = [
  "hello",
  "join",
  "resume",
  "leave",
  "admit",
  "admit_all",
  "deny",
  "send_to_waiting_room",
  "set_locked",
  "end_for_all",
  "remove",
  "set_role",
  "hand_over_host",
  "mute",
  "mute_all",
  "ask_to_unmute",
  "set_chat_policy",
  "set_share_policy",
  "set_mute_on_entry",
  "set_self_unmute",
  "set_spotlight",
  "set_media",
  "raise_hand",
  "lower_hand",
  "rename",
  "react",
  "set_feedback",
  "clear_feedback",
  "start_poll",
  "vote",
  "end_poll",
  "share_poll_results",
  "chat",
  "media_offer",
  "media_answer",
  "subscribe_video",
];

// ---- server → client ---------------------------------------------------------------------

export type ServerMessage =
  | { type: "welcome"; version: number; server: string }
  | { type: "error"; code: ErrorCode; message: string }
  | { type: "waiting"; you: ParticipantId; resume_token: string; meeting: MeetingState }
  | {
      type: "joined";
      you: ParticipantId;
      role: Role;
      resume_token: string;
      meeting: MeetingState;
      participants: ParticipantInfo[];
      /** Only filled for hosts and co-hosts. */
      waiting: WaitingInfo[];
      /** Chat history this participant may read, oldest first. */
      chat: ChatMessage[];
    }
  | { type: "participant_joined"; participant: ParticipantInfo }
  | { type: "participant_updated"; participant: ParticipantInfo }
  | { type: "participant_left"; participant: ParticipantId; reason: LeaveReason }
  | { type: "waiting_room"; waiting: WaitingInfo[] }
  | { type: "moved_to_waiting_room" }
  | { type: "meeting_updated"; meeting: MeetingState }
  | { type: "chat"; message: ChatMessage }
  | { type: "muted_by"; by: ParticipantId }
  | { type: "unmute_requested"; by: ParticipantId }
  /** The meeting's poll as I may see it (see PollView). */
  | { type: "poll"; poll: PollView }
  | { type: "reaction"; participant: ParticipantId; reaction: Reaction }
  | { type: "closed"; reason: CloseReason }
  // media
  | {
      type: "media_config";
      ice_servers: IceServer[];
      /** The organisation's cap on video height in pixels; absent when there is none. */
      max_video_height?: number;
    }
  | { type: "media_answer"; sdp: string }
  | { type: "media_offer"; sdp: string }
  | { type: "media_tracks"; tracks: RemoteTrack[] }
  | { type: "media_layers"; kind: TrackKind; active_rids: string[] }
  | { type: "active_speaker"; participant: ParticipantId };

export type ServerMessageType = ServerMessage["type"];
export type ServerMessageOf<K extends ServerMessageType> = Extract<ServerMessage, { type: K }>;

/** The server messages the media backend handles. */
export type MediaServerMessage = ServerMessageOf<
  "media_config" | "media_answer" | "media_offer" | "media_tracks" | "media_layers"
>;

const SERVER_TYPES: ReadonlySet<string> = new Set<ServerMessageType>([
  "welcome",
  "error",
  "waiting",
  "joined",
  "participant_joined",
  "participant_updated",
  "participant_left",
  "waiting_room",
  "moved_to_waiting_room",
  "meeting_updated",
  "chat",
  "muted_by",
  "unmute_requested",
  "poll",
  "reaction",
  "closed",
  "media_config",
  "media_answer",
  "media_offer",
  "media_tracks",
  "media_layers",
  "active_speaker",
]);

/** Parses one frame; null for anything that is not a JSON object with a known `type`
 * (a newer server may send types this client does not know yet). */
export function parseServerMessage(data: unknown): ServerMessage | null {
  if (typeof data !== "string") return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string" || !SERVER_TYPES.has(type)) return null;
  return value as ServerMessage;
}

/** Digits of a meeting id typed with spaces or dashes, or pasted as a join link; null if it
 * is not one (mirrors MeetingId::from_str). */
export function parseMeetingId(input: string): MeetingId | null {
  let s = input.trim();
  const link = /\/j\/([0-9 -]+)/.exec(s);
  if (link?.[1]) s = link[1];
  if (!/^[0-9 -]+$/.test(s)) return null;
  const digits = s.replace(/[ -]/g, "");
  if (digits.length < 9 || digits.length > 11 || digits.startsWith("0")) return null;
  return digits;
}

/** Groups the digits as people read them aloud: 123 456 789, 123 4567 890, 123 4567 8901. */
export function formatMeetingId(id: MeetingId): string {
  if (id.length === 9) return `${id.slice(0, 3)} ${id.slice(3, 6)} ${id.slice(6)}`;
  return `${id.slice(0, 3)} ${id.slice(3, 7)} ${id.slice(7)}`;
}
