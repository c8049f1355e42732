import type { SignallingClient } from "../protocol/client";

/** The signalling actions the meeting screens call: the SignallingClient itself in the app,
 * a stub in tests. */
export type MeetingActions = Pick<
  SignallingClient,
  | "admit"
  | "admitAll"
  | "deny"
  | "sendToWaitingRoom"
  | "setLocked"
  | "endForAll"
  | "remove"
  | "setRole"
  | "handOverHost"
  | "mute"
  | "muteAll"
  | "askToUnmute"
  | "setChatPolicy"
  | "setSharePolicy"
  | "setMuteOnEntry"
  | "setSelfUnmute"
  | "setSpotlight"
  | "raiseHand"
  | "lowerHand"
  | "react"
  | "setFeedback"
  | "clearFeedback"
  | "startPoll"
  | "vote"
  | "endPoll"
  | "sharePollResults"
  | "chat"
  | "subscribeVideo"
>;
