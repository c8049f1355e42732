// The desktop app's media backend. The app's webview (WebKitGTK) has no WebRTC, so media
// runs in Rust (samla-engine): this backend passes the media part of the signalling to the
// app with `invoke`, sends on the signalling socket what the app's media session asks for
// (`media-signal` events), and draws the decoded video that arrives on the app's loopback
// frame socket with WebGL.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { SignallingClient } from "../protocol/client";
import type { ClientMessage, MediaServerMessage, RemoteTrack, ServerMessage } from "../protocol/messages";
import {
  ScreenShareError,
  idleLocalState,
  type DeviceChoice,
  type DeviceErrorCode,
  type LocalMediaState,
  type MediaBackend,
  type MediaDeviceOption,
  type ShareTarget,
  type VideoSource,
} from "./backend";
import { I420Renderer, parseFrame, type SocketFrame } from "./i420-gl";
import { levelFromRms } from "./level";

/** What the app tells the page at start (src-tauri/src/commands.rs `DesktopConfig`). */
export interface DesktopConfig {
  frame_url: string;
  server: string | null;
  join: { server_host: string; meeting_id: string; secure: boolean } | null;
  name: string | null;
  fake_media: boolean;
  bench_seconds: number | null;
}

export function desktopConfig(): Promise<DesktopConfig> {
  return invoke<DesktopConfig>("desktop_config");
}

/** A device the app could not open (src-tauri/src/media.rs `DeviceProblem`). */
interface DeviceProblem {
  reason: string;
  detail: string;
}

/** What the app sends (src-tauri/src/media.rs `LocalSources`). */
export interface LocalSources {
  camera: boolean;
  microphone: boolean;
  synthetic: boolean;
  /** Why the camera asked for is not sent. */
  camera_error?: DeviceProblem | null;
  /** Why the microphone asked for is not sent. */
  microphone_error?: DeviceProblem | null;
  /** Why the others cannot be heard: no speaker opened. */
  speaker_error?: DeviceProblem | null;
}

/** The device error when the app has nothing to capture with (the views show their own text). */
const NO_DEVICES = "no camera/microphone found";

/** A device problem's reason as the views know it. */
function problemCode(device: "camera" | "microphone", problem: DeviceProblem): DeviceErrorCode {
  const r = problem.reason;
  return `${device}_${r === "missing" || r === "busy" || r === "denied" ? r : "failed"}`;
}

/** The device error to show for what the app could not open: the camera's first (the one
 * the user sees missing), then the microphone's. */
export function sourcesError(sources: LocalSources): DeviceErrorCode | null {
  if (sources.camera_error) return problemCode("camera", sources.camera_error);
  if (sources.microphone_error) return problemCode("microphone", sources.microphone_error);
  return null;
}

/** The self view's frames on the frame socket: our own camera, as participant 0. */
const SELF_PARTICIPANT = 0;
const SELF_TRACK = "self";

const trackKey = (participant: number, kind: string) => `${participant}/${kind}`;

/**
 * The app's frame socket: one connection for the window, frames handed to whoever draws that
 * participant's track. Reconnects if the socket drops.
 *
 * Frames are drawn once per display refresh, the newest of each track: when the page falls
 * behind it skips pictures instead of drawing a growing backlog late.
 */
export class FrameFeed {
  private ws: WebSocket | null = null;
  private closed = false;
  private readonly pending = new Map<string, SocketFrame>();
  private scheduled = false;
  private readonly drawers = new Map<string, Set<(f: SocketFrame) => void>>();
  private readonly seen = new Set<string>();
  private readonly trackListeners = new Set<() => void>();

  constructor(private readonly url: string) {}

  connect(): void {
    if (this.ws || this.closed) return;
    const ws = new WebSocket(this.url);
    ws.binaryType = "arraybuffer";
    ws.onmessage = (e) => {
      if (!(e.data instanceof ArrayBuffer)) return;
      const frame = parseFrame(e.data);
      if (!frame) return;
      const key = trackKey(frame.participant, frame.kind);
      // Our own picture says nothing about the meeting's media having connected.
      if (!this.seen.has(key) && frame.kind !== "self") {
        this.seen.add(key);
        for (const l of [...this.trackListeners]) l();
      }
      if (!this.drawers.get(key)?.size) return;
      this.pending.set(key, frame);
      if (!this.scheduled) {
        this.scheduled = true;
        requestAnimationFrame(() => this.drawPending());
      }
    };
    ws.onclose = () => {
      this.ws = null;
      if (!this.closed) setTimeout(() => this.connect(), 1000);
    };
    this.ws = ws;
  }

  private drawPending(): void {
    this.scheduled = false;
    for (const [key, frame] of this.pending) {
      for (const draw of this.drawers.get(key) ?? []) draw(frame);
    }
    this.pending.clear();
  }

  /** Whether frames of this track have arrived. */
  has(participant: number, kind: string): boolean {
    return this.seen.has(trackKey(participant, kind));
  }

  /** Calls `listener` when frames of a track arrive for the first time. */
  onNewTrack(listener: () => void): () => void {
    this.trackListeners.add(listener);
    return () => this.trackListeners.delete(listener);
  }

  onFrame(participant: number, kind: string, draw: (f: SocketFrame) => void): () => void {
    const key = trackKey(participant, kind);
    let set = this.drawers.get(key);
    if (!set) this.drawers.set(key, (set = new Set()));
    set.add(draw);
    return () => set.delete(draw);
  }

  /** Forgets which tracks were seen (a new meeting starts). */
  reset(): void {
    this.seen.clear();
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
  }
}

/** The server messages the app's media session needs besides the media_* ones. */
const SESSION_TYPES = new Set(["joined", "participant_joined", "participant_updated", "participant_left", "closed"]);

export class DesktopMediaBackend implements MediaBackend {
  local: LocalMediaState = idleLocalState();
  private readonly listeners = new Set<() => void>();
  /** Calls into the app, one after the other, so it sees messages in the order they came. */
  private queue: Promise<unknown>;
  private started = false;
  private closed = false;
  /** The speaker the others are played on ("" for the system's default). */
  private outputId = "";
  /** The microphone meter's last reading (0..1), and whether a newer one is on its way. */
  private level = 0;
  private levelAsked = false;
  private remote: RemoteTrack[] = [];
  private readonly unsubscribers: (() => void)[] = [];

  constructor(
    private readonly client: SignallingClient,
    private readonly serverHost: string,
    private readonly feed: FrameFeed,
  ) {
    this.queue = this.listenUntilClosed<ClientMessage>("media-signal", (payload) => this.client.send(payload));
    // The camera stopped during the meeting (unplugged, or taken by another program): the
    // camera button goes off (the others are told) and the page says why. Switching it on
    // again opens the camera anew.
    void this.listenUntilClosed<{ reason: string; detail: string }>("camera-lost", (payload) => {
      console.warn("samla: the camera stopped:", payload.detail);
      this.changed({ cameraOn: false, deviceError: "camera_lost" });
    });
    this.unsubscribers.push(
      client.onMessage((msg: ServerMessage) => {
        if (SESSION_TYPES.has(msg.type)) this.forward(msg);
      }),
      feed.onNewTrack(() => this.changed({ status: "connected" })),
    );
    feed.reset();
    feed.connect();
  }

  /** Handles the app's `event` until this backend is closed. */
  private listenUntilClosed<T>(event: string, handler: (payload: T) => void): Promise<void> {
    return listen<T>(event, (e) => handler(e.payload)).then((unlisten: UnlistenFn) => {
      if (this.closed) unlisten();
      else this.unsubscribers.push(unlisten);
    });
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(patch: Partial<LocalMediaState> = {}): void {
    this.local = { ...this.local, ...patch };
    for (const l of [...this.listeners]) l();
  }

  private enqueue<T>(step: () => Promise<T>): Promise<T | undefined> {
    const next = this.queue.then(step).catch((e: unknown) => {
      console.error("samla: desktop media", e);
      return undefined;
    });
    this.queue = next;
    return next;
  }

  /** Starts the app's media session once, with what the user chose to send. */
  private start(mic: boolean, camera: boolean, devices?: DeviceChoice): Promise<LocalSources | undefined> {
    this.started = true;
    const audioDevices = { microphone: devices?.audioInput ?? null, speaker: this.outputId || null };
    const cameraDevice = devices?.videoInput || null;
    return this.enqueue(() =>
      invoke<LocalSources>("media_start", { serverHost: this.serverHost, camera, cameraDevice, microphone: mic, audioDevices }),
    );
  }

  private forward(msg: ServerMessage): void {
    if (!this.started) void this.start(false, false);
    void this.enqueue(() => invoke("media_signal", { message: msg }));
  }

  // ---- devices ---------------------------------------------------------------------------

  async openDevices(opts: { mic: boolean; camera: boolean; devices?: DeviceChoice }): Promise<void> {
    const sources = await this.start(opts.mic, opts.camera, opts.devices);
    if (!sources) return;
    const wanted = opts.mic || opts.camera;
    this.changed({
      hasMic: sources.microphone,
      hasCamera: sources.camera,
      micMuted: !sources.microphone,
      cameraOn: sources.camera,
      deviceError:
        sourcesError(sources) ?? (wanted && !sources.synthetic && !sources.microphone ? NO_DEVICES : null),
      speakerError: sources.speaker_error?.detail ?? null,
      inputId: opts.devices?.audioInput ?? "",
      cameraId: opts.devices?.videoInput ?? "",
    });
  }

  /** The app lists its cameras, microphones and speakers every few seconds and says when they changed. */
  onDevicesChanged(listener: () => void): () => void {
    let unlisten: UnlistenFn | null = null;
    let gone = false;
    void listen("devices-changed", () => listener()).then((u: UnlistenFn) => {
      if (gone) u();
      else unlisten = u;
    });
    return () => {
      gone = true;
      unlisten?.();
    };
  }

  /** The cameras, microphones and speakers the app sees. */
  async listDevices(): Promise<MediaDeviceOption[]> {
    const list = async (command: string, kind: MediaDeviceOption["kind"]): Promise<MediaDeviceOption[]> => {
      try {
        const devices = await invoke<{ id: string; name: string }[]>(command);
        return devices.map((d) => ({ id: d.id, kind, label: d.name }));
      } catch (e) {
        console.error(`samla: ${command} failed`, e);
        return [];
      }
    };
    return [
      ...(await list("camera_list", "videoinput")),
      ...(await list("microphone_list", "audioinput")),
      ...(await list("speaker_list", "audiooutput")),
    ];
  }

  /** The app keeps the microphone open while muted and sends silence (the track stays). */
  setMicMuted(muted: boolean): void {
    if (!this.local.hasMic) return;
    void this.enqueue(() => invoke("microphone_set", { on: !muted }));
    this.changed({ micMuted: muted });
  }

  /** Closes the camera (its light goes off) or opens it again; a camera that does not open
   * again stays off and says why. */
  setCameraOn(on: boolean): void {
    if (!this.local.hasCamera || this.local.cameraOn === on) return;
    this.changed({ cameraOn: on });
    const switched = this.queue.then(() => invoke("camera_set", { on }));
    this.queue = switched.catch(() => undefined);
    switched.catch((e: unknown) => {
      const reason = e && typeof e === "object" && "reason" in e ? String((e as { reason: unknown }).reason) : "failed";
      this.changed({ cameraOn: false, deviceError: problemCode("camera", { reason, detail: "" }) });
    });
  }

  /** The screens and windows of the app's display. */
  async listShareTargets(): Promise<ShareTarget[]> {
    try {
      return await invoke<ShareTarget[]>("share_targets");
    } catch (e) {
      throw toShareError(e);
    }
  }

  /** Shares a screen or one window (the whole display without `target`): the app captures
   * it and publishes it as our screen track. */
  async startScreenShare(target?: ShareTarget): Promise<void> {
    if (this.local.sharingScreen) return;
    const args = target ? { kind: target.kind, id: target.id } : {};
    // In the queue, so a quick stop-then-share reaches the app in that order; unlike the
    // other calls its failure goes back to the caller, who shows it.
    const started = this.queue.then(() => invoke("screen_share_start", args));
    this.queue = started.catch(() => undefined);
    try {
      await started;
    } catch (e) {
      throw toShareError(e);
    }
    this.changed({ sharingScreen: true });
  }

  stopScreenShare(): void {
    if (!this.local.sharingScreen) return;
    void this.enqueue(() => invoke("screen_share_stop"));
    this.changed({ sharingScreen: false });
  }

  // ---- signalling ------------------------------------------------------------------------

  handle(msg: MediaServerMessage): void {
    if (msg.type === "media_config") this.changed({ status: "connecting" });
    // The app's peer has the SFU's answer; frames follow once someone sends.
    if (msg.type === "media_answer") this.changed({ status: "connected" });
    if (msg.type === "media_tracks") {
      this.remote = msg.tracks;
      this.changed();
    }
    this.forward(msg);
  }

  onOfferRefused(): void {}

  // ---- video -----------------------------------------------------------------------------

  hasVideo(source: VideoSource): boolean {
    if (source.kind === "local-camera") return this.local.hasCamera && this.local.cameraOn;
    if (source.kind !== "remote") return false;
    return (
      this.feed.has(source.participant, source.track) ||
      this.remote.some((r) => r.participant === source.participant && r.kind === source.track)
    );
  }

  /** Draws a remote track, or our own camera (the self view the app sends on the frame
   * socket as participant 0). */
  attachVideo(container: HTMLElement, source: VideoSource): () => void {
    if (source.kind === "local-screen") return () => {};
    const [participant, track] = source.kind === "remote" ? [source.participant, source.track] : [SELF_PARTICIPANT, SELF_TRACK];
    const canvas = document.createElement("canvas");
    canvas.className = source.kind === "remote" ? "frames" : "frames self-view";
    canvas.dataset["participant"] = String(participant);
    canvas.dataset["track"] = track;
    canvas.style.cssText = `width:100%;height:100%;object-fit:${track === "screen" ? "contain" : "cover"};`;
    container.append(canvas);
    let renderer: I420Renderer | null = null;
    try {
      renderer = new I420Renderer(canvas);
    } catch (e) {
      console.error("samla: cannot draw video", e);
    }
    const stop = renderer ? this.feed.onFrame(participant, track, (f) => renderer.draw(f)) : () => {};
    return () => {
      stop();
      canvas.remove();
    };
  }

  // ---- the pre-join checks -------------------------------------------------------------------

  /** The last level the app measured on the microphone; each call asks for a newer one. */
  micLevel(): number {
    if (!this.levelAsked) {
      this.levelAsked = true;
      invoke<number>("microphone_level").then(
        (rms) => {
          this.level = levelFromRms(rms);
          this.levelAsked = false;
        },
        () => {
          this.levelAsked = false;
        },
      );
    }
    return this.local.hasMic ? this.level : 0;
  }

  /** The app plays the test tone on the speaker; a refusal carries the app's `DeviceProblem`. */
  async playTestSound(outputId: string = this.outputId): Promise<void> {
    await invoke("speaker_test", { device: outputId || null });
  }

  canChooseOutput(): boolean {
    return true;
  }

  /** Plays the others on `outputId` ("" for the default) from now on: the app's media session
   * takes the new speaker without opening anything else again. A speaker that does not open
   * is refused with the app's `DeviceProblem`, and the one before goes on playing. */
  async setOutputDevice(outputId: string): Promise<void> {
    const before = this.outputId;
    this.outputId = outputId;
    // In the queue, after the media_start that opened the session it switches.
    const switched = this.queue.then(() => invoke("speaker_use", { device: outputId || null }));
    this.queue = switched.catch(() => undefined);
    try {
      await switched;
    } catch (e) {
      this.outputId = before;
      throw e;
    }
    this.changed({ outputId, speakerError: null });
  }

  /** Sends the microphone `inputId` ("" for the default) from now on: the app swaps it into
   * the running session. A first microphone (the meeting began without one) starts muted. */
  async setInputDevice(inputId: string): Promise<void> {
    const first = !this.local.hasMic;
    const switched = this.queue.then(async () => {
      if (first) await invoke("microphone_set", { on: false });
      await invoke("microphone_use", { device: inputId || null });
    });
    this.queue = switched.catch(() => undefined);
    await switched;
    this.changed(first ? { hasMic: true, micMuted: true, deviceError: null, inputId } : { inputId });
  }

  /** Sends the camera `cameraId` ("" for the first) from now on: the app opens it and swaps
   * it into the camera track; a refusal carries the app's `DeviceProblem`. */
  async setCameraDevice(cameraId: string): Promise<void> {
    const switched = this.queue.then(() => invoke("camera_use", { device: cameraId || null }));
    this.queue = switched.catch(() => undefined);
    await switched;
    this.changed({ cameraId });
  }

  close(): void {
    void this.enqueue(() => invoke("media_stop"));
    this.closed = true;
    for (const u of this.unsubscribers.splice(0)) u();
    this.remote = [];
    this.started = false;
    this.changed({ hasMic: false, hasCamera: false, micMuted: true, cameraOn: false, sharingScreen: false, status: "idle" });
  }
}

/** The app's `ShareError` (`{ reason, detail }`, src-tauri/src/media.rs) as a ScreenShareError. */
export function toShareError(e: unknown): ScreenShareError {
  if (e && typeof e === "object" && "reason" in e) {
    const { reason, detail } = e as { reason: unknown; detail?: unknown };
    if (reason === "no_display" || reason === "not_in_meeting" || reason === "capture") {
      return new ScreenShareError(reason, typeof detail === "string" ? detail : "");
    }
  }
  return new ScreenShareError("capture", e instanceof Error ? e.message : String(e));
}
