// How the UI gets at audio and video, whatever produces them. The browser build uses
// BrowserMediaBackend (one RTCPeerConnection to the SFU); the desktop app will plug in a
// backend whose frames come from Rust over Tauri and draws them on a <canvas>.

import type { ClientMessage, MediaServerMessage, ParticipantId, TrackKind } from "../protocol/messages";

export type MediaStatus = "idle" | "connecting" | "connected" | "failed";

export interface LocalMediaState {
  /** Whether we have a microphone / camera at all (false when access was denied). */
  hasMic: boolean;
  hasCamera: boolean;
  micMuted: boolean;
  cameraOn: boolean;
  sharingScreen: boolean;
  /** Set when opening a device failed: a {@link DeviceErrorCode} when the backend knows
   * which device and why, otherwise the error's text. */
  deviceError: string | null;
  /** Set when nothing can play the others' audio (the desktop app found no speaker). */
  speakerError: string | null;
  /** The microphone, speaker and camera in use (device ids; "" for the system's default). */
  inputId: string;
  outputId: string;
  cameraId: string;
  status: MediaStatus;
}

/** A backend's state before it opens a device or connects. */
export function idleLocalState(): LocalMediaState {
  return {
    hasMic: false,
    hasCamera: false,
    micMuted: true,
    cameraOn: false,
    sharingScreen: false,
    deviceError: null,
    speakerError: null,
    inputId: "",
    outputId: "",
    cameraId: "",
    status: "idle",
  };
}

/**
 * Why sharing the screen did not start, for the text the user sees: no display to capture
 * (`no_display`), no meeting (`not_in_meeting`) or a failed capture (`capture`, with
 * `detail`). A user cancelling the browser's picker is not one of these.
 */
export class ScreenShareError extends Error {
  constructor(
    readonly reason: "no_display" | "not_in_meeting" | "capture",
    readonly detail: string,
  ) {
    super(detail);
    this.name = "ScreenShareError";
  }
}

/** Which device could not be opened, and why: what the views turn into a catalogue text. */
export type DeviceErrorCode =
  | `${"camera" | "microphone"}_${"missing" | "busy" | "denied" | "failed"}`
  /** The camera stopped during the meeting (unplugged, or taken by another program). */
  | "camera_lost";

/** A screen or window the desktop app can share (src-tauri/src/media.rs `ShareTarget`). */
export interface ShareTarget {
  kind: "screen" | "window";
  id: string;
  /** A window's title, or a screen's name and size. */
  name: string;
  /** The screen that is everything the display shows. */
  whole: boolean;
  /** Not a screen or window but the desktop's own sharing dialog, which asks the user which
   * (Wayland sessions, where no application may list the others' windows). */
  system_dialog?: boolean;
}

/** What a tile draws: our own camera as it is sent (the self view), our screen, or someone's
 * track. */
export type VideoSource =
  | { kind: "local-camera" }
  | { kind: "local-screen" }
  | { kind: "remote"; participant: ParticipantId; track: TrackKind };

export interface DeviceChoice {
  audioInput?: string;
  videoInput?: string;
}

export interface MediaDeviceOption {
  id: string;
  kind: "audioinput" | "videoinput" | "audiooutput";
  label: string;
}

export interface MediaBackend {
  /** Current local state; `subscribe` tells when it or the remote tracks change. */
  readonly local: LocalMediaState;
  subscribe(listener: () => void): () => void;

  /** Opens microphone and camera (before or after joining). Called again before joining
   * (another device picked), it closes the ones open and opens the new choice. */
  openDevices(opts: { mic: boolean; camera: boolean; devices?: DeviceChoice }): Promise<void>;
  listDevices(): Promise<MediaDeviceOption[]>;
  /** Calls `listener` when a camera, microphone or speaker is plugged in or out (list them again);
   * returns the unsubscribe. */
  onDevicesChanged?(listener: () => void): () => void;

  setMicMuted(muted: boolean): void;
  setCameraOn(on: boolean): void;
  /** Shares the screen: `target` from {@link MediaBackend.listShareTargets} where the
   * backend has it (the desktop app), otherwise the browser's own picker chooses. */
  startScreenShare(target?: ShareTarget): Promise<void>;
  /** The screens and windows to choose from; absent when the platform picks (browsers). */
  listShareTargets?(): Promise<ShareTarget[]>;
  stopScreenShare(): void;

  /** Feeds the media part of the signalling (media_config, media_offer, …). */
  handle(msg: MediaServerMessage): void;
  /** A server error while an offer of ours was outstanding (the SFU refused it). */
  onOfferRefused(): void;

  /** Whether a remote video is being received and can be drawn. */
  hasVideo(source: VideoSource): boolean;
  /** Draws a video into `container` until the returned function is called. */
  attachVideo(container: HTMLElement, source: VideoSource): () => void;

  /** Stops everything (devices, connection, audio playback). */
  close(): void;

  // ---- optional: the pre-join checks (a backend without them hides the meter / test) ----

  /** The microphone's level right now, 0 (silent or off) to 1 (loud); polled by the meter. */
  micLevel?(): number;
  /** Plays a short test tone through `outputId` (the default output when absent); resolves
   * when it has played, rejects when it cannot be played. */
  playTestSound?(outputId?: string): Promise<void>;
  /** Whether the output for remote audio and the test tone can be chosen (setSinkId). */
  canChooseOutput?(): boolean;
  /** Plays remote audio (and the test tone) through `outputId` ("" for the default). */
  setOutputDevice?(outputId: string): Promise<void>;
  /** Sends the microphone `inputId` ("" for the default) from now on, in the meeting, without
   * opening anything else again; rejects (keeping the one before) when it does not open. */
  setInputDevice?(inputId: string): Promise<void>;
  /** Sends the camera `cameraId` ("" for the default) from now on, in the meeting, on the same
   * track; rejects (keeping the one before) when it does not open or cannot be sent. */
  setCameraDevice?(cameraId: string): Promise<void>;
}

/** What a backend needs from the signalling. */
export type SendSignal = (msg: ClientMessage) => void;
