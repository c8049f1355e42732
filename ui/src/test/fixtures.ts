// The meeting and its people as the server describes them, with the server's defaults, for
// the UI's unit tests: each test says only what matters to it, and a field the protocol gains
// is added here once.

import type { MeetingState, ParticipantInfo } from "../protocol/messages";

/** A meeting in its starting state (what `joined` says of a fresh one), with `changes`. */
export function meetingState(changes: Partial<MeetingState> = {}): MeetingState {
  return {
    id: "123456789",
    topic: "Matte 101",
    locked: false,
    waiting_room: false,
    chat_policy: "everyone",
    share_policy: "everyone",
    mute_on_entry: false,
    self_unmute: true,
    spotlight: null,
    ...changes,
  };
}

/** A connected participant with the microphone on and the camera off, with `changes`. */
export function participant(id: number, name: string, changes: Partial<ParticipantInfo> = {}): ParticipantInfo {
  return {
    id,
    name,
    role: "participant",
    audio_muted: false,
    video_on: false,
    hand_raised: false,
    connected: true,
    signed_in: false,
    may_unmute: true,
    feedback: null,
    ...changes,
  };
}
