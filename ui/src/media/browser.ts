// The browser's media backend: one RTCPeerConnection to the SFU that sends our microphone,
// camera (simulcast) and screen, and receives everyone else's tracks. Ported from the
// vanilla join page (crates/samla-server/assets/join/join.js). The browser is the polite
// peer: a server offer wins over our own.

import type { IceServer, MediaServerMessage, PublishedTrack, RemoteTrack, TrackKind } from "../protocol/messages";
import type {
  DeviceChoice,
  LocalMediaState,
  MediaBackend,
  MediaDeviceOption,
  SendSignal,
  VideoSource,
} from "./backend";
import { idleLocalState } from "./backend";
import { levelFromSamples } from "./level";

/** The test tone: two short notes (A5 then E5), as a speaker test in meeting apps sounds. */
const TEST_TONE: { hz: number; at: number; len: number }[] = [
  { hz: 880, at: 0, len: 0.35 },
  { hz: 659.25, at: 0.4, len: 0.45 },
];

/** `HTMLMediaElement.setSinkId`, where the browser has it (Chromium, Firefox 116+; not WebKit). */
type SinkElement = HTMLMediaElement & { setSinkId?: (id: string) => Promise<void> };

const SIMULCAST: RTCRtpEncodingParameters[] = [
  { rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "f", scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/** Only H.264 (and RTX) for video when the browser has it: the SFU speaks H.264 and Opus. */
/**
 * The simulcast encodings for a camera `sourceHeight` pixels tall under the organisation's cap
 * (`media_config`'s `max_video_height`): each layer is scaled down at least enough to fit the
 * cap. The SFU cannot see a browser layer's real height (it assumes a 360p top layer), so the
 * cap has to hold here, at the encoder.
 */
export function capEncodings(
  encodings: RTCRtpEncodingParameters[],
  sourceHeight: number | undefined,
  maxVideoHeight: number | undefined,
): RTCRtpEncodingParameters[] {
  if (!maxVideoHeight || !sourceHeight || sourceHeight <= maxVideoHeight) {
    return encodings.map((e) => ({ ...e }));
  }
  const least = sourceHeight / maxVideoHeight;
  return encodings.map((e) => ({
    ...e,
    scaleResolutionDownBy: Math.max(e.scaleResolutionDownBy ?? 1, least),
  }));
}

export function preferH264(codecs: RTCRtpCodec[]): RTCRtpCodec[] | null {
  const h264 = codecs.filter((c) => c.mimeType.toLowerCase() === "video/h264");
  if (h264.length === 0) return null;
  const score = (c: RTCRtpCodec) => {
    const f = c.sdpFmtpLine ?? "";
    return (f.includes("packetization-mode=1") ? 0 : 2) + (f.includes("profile-level-id=42e0") ? 0 : 1);
  };
  h264.sort((a, b) => score(a) - score(b));
  return [...h264, ...codecs.filter((c) => c.mimeType.toLowerCase() === "video/rtx")];
}

function capabilities(kind: "audio" | "video"): RTCRtpCodec[] | null {
  return typeof RTCRtpReceiver !== "undefined" ? (RTCRtpReceiver.getCapabilities?.(kind)?.codecs ?? null) : null;
}

export class BrowserMediaBackend implements MediaBackend {
  local: LocalMediaState = idleLocalState();
  private listeners = new Set<() => void>();
  private stream: MediaStream | null = null;
  private streamReady: Promise<MediaStream | null> = Promise.resolve(null);
  private screen: MediaStream | null = null;
  private pc: RTCPeerConnection | null = null;
  private iceServers: IceServer[] = [];
  /** The organisation's cap on video height, from `media_config`. */
  private maxVideoHeight: number | undefined;
  private simulcast = true;
  private audioTx: RTCRtpTransceiver | null = null;
  private videoTx: RTCRtpTransceiver | null = null;
  private screenTx: RTCRtpTransceiver | null = null;
  private awaitingAnswer = false;
  private queue: Promise<void> = Promise.resolve();
  private remote: RemoteTrack[] = [];
  private sinks = new Map<string, HTMLAudioElement>();
  private sinkHost: HTMLElement | null = null;
  private outputId = "";
  private levelCtx: AudioContext | null = null;
  private analyser: { node: AnalyserNode; track: MediaStreamTrack; buf: Float32Array<ArrayBuffer> } | null = null;

  constructor(private readonly send: SendSignal) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(patch: Partial<LocalMediaState> = {}): void {
    this.local = { ...this.local, ...patch };
    for (const l of [...this.listeners]) l();
  }

  // ---- devices ---------------------------------------------------------------------------

  openDevices(opts: { mic: boolean; camera: boolean; devices?: DeviceChoice }): Promise<void> {
    const md = globalThis.navigator?.mediaDevices;
    if (!md?.getUserMedia) {
      this.changed({ deviceError: "no mediaDevices" });
      return Promise.resolve();
    }
    // Opened again with other devices (before joining): the old ones close first, as a
    // camera may not open twice.
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    this.stream = null;
    this.streamReady = md
      .getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, deviceId: opts.devices?.audioInput },
        video: {
          width: { ideal: 640 },
          height: { ideal: 360 },
          frameRate: { ideal: 30 },
          deviceId: opts.devices?.videoInput,
        },
      })
      .then((s) => {
        this.stream = s;
        const mic = s.getAudioTracks()[0];
        const cam = s.getVideoTracks()[0];
        if (mic) mic.enabled = opts.mic;
        if (cam) cam.enabled = opts.camera;
        this.changed({
          hasMic: !!mic,
          hasCamera: !!cam,
          micMuted: !opts.mic || !mic,
          cameraOn: opts.camera && !!cam,
          deviceError: null,
          inputId: opts.devices?.audioInput ?? "",
          cameraId: opts.devices?.videoInput ?? "",
        });
        return s;
      })
      .catch((e: unknown) => {
        this.changed({ deviceError: String(e) });
        return null;
      });
    return this.streamReady.then(() => undefined);
  }

  /** The browser's own `devicechange`, fired when a camera or microphone comes or goes. */
  onDevicesChanged(listener: () => void): () => void {
    const md = globalThis.navigator?.mediaDevices;
    if (!md?.addEventListener) return () => {};
    md.addEventListener("devicechange", listener);
    return () => md.removeEventListener("devicechange", listener);
  }

  async listDevices(): Promise<MediaDeviceOption[]> {
    const md = globalThis.navigator?.mediaDevices;
    if (!md?.enumerateDevices) return [];
    const all = await md.enumerateDevices();
    return all.map((d) => ({ id: d.deviceId, kind: d.kind, label: d.label }));
  }

  micLevel(): number {
    const mic = this.stream?.getAudioTracks()[0];
    if (!mic || !mic.enabled || mic.readyState !== "live" || typeof AudioContext === "undefined") return 0;
    if (this.analyser?.track !== mic) {
      this.levelCtx ??= new AudioContext();
      const node = this.levelCtx.createAnalyser();
      node.fftSize = 1024; // ~21 ms at 48 kHz
      this.levelCtx.createMediaStreamSource(new MediaStream([mic])).connect(node);
      this.analyser = { node, track: mic, buf: new Float32Array(node.fftSize) };
    }
    if (this.levelCtx?.state === "suspended") void this.levelCtx.resume().catch(() => {});
    this.analyser.node.getFloatTimeDomainData(this.analyser.buf);
    return levelFromSamples(this.analyser.buf);
  }

  canChooseOutput(): boolean {
    return typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;
  }

  async setOutputDevice(outputId: string): Promise<void> {
    this.outputId = outputId;
    await Promise.all([...this.sinks.values()].map((sink) => (sink as SinkElement).setSinkId?.(outputId)));
    this.changed({ outputId });
  }

  /** Opens `kind` from the device picked (`constraints` plus its id, "" for the default) and
   * puts its track in our stream in place of the old one, which keeps its on/off state (or is
   * `enabledWithout`, with none before). Returns both; the caller moves the connection over
   * and then stops the old one. */
  private async openInPlace(
    kind: "audio" | "video",
    deviceId: string,
    constraints: MediaTrackConstraints,
    enabledWithout: boolean,
  ): Promise<{ next: MediaStreamTrack; old: MediaStreamTrack | undefined }> {
    const md = globalThis.navigator?.mediaDevices;
    if (!md?.getUserMedia) throw new Error("no mediaDevices");
    const picked = { ...constraints, ...(deviceId ? { deviceId: { exact: deviceId } } : {}) };
    const s = await md.getUserMedia(kind === "audio" ? { audio: picked } : { video: picked });
    const next = s.getTracks()[0];
    if (!next) throw new Error(`no ${kind} device`);
    const old = this.stream?.getTracks().find((t) => t.kind === kind);
    next.enabled = old ? old.enabled : enabledWithout;
    if (this.stream) {
      if (old) this.stream.removeTrack(old);
      this.stream.addTrack(next);
    } else {
      this.stream = s;
    }
    return { next, old };
  }

  /** Another microphone, in place: a new track from it replaces the old one on the
   * connection (no new offer), muted or not as the old one was. */
  async setInputDevice(inputId: string): Promise<void> {
    const { next, old } = await this.openInPlace("audio", inputId, { echoCancellation: true, noiseSuppression: true }, false);
    if (this.audioTx) await this.audioTx.sender.replaceTrack(next);
    // A first microphone in the meeting: a new track, which the connection offers.
    else if (this.pc && this.stream) this.audioTx = this.pc.addTransceiver(next, { direction: "sendonly", streams: [this.stream] });
    old?.stop();
    this.changed({ hasMic: true, micMuted: !next.enabled, inputId });
  }

  /** Another camera, in place: a new track from it replaces the old one on the connection
   * (the simulcast layers follow its size), on or off as the old one was. */
  async setCameraDevice(cameraId: string): Promise<void> {
    if (this.pc && !this.videoTx) throw new Error("this meeting was joined without a camera");
    const constraints = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 30 } };
    const { next, old } = await this.openInPlace("video", cameraId, constraints, this.local.cameraOn);
    if (this.videoTx) await this.videoTx.sender.replaceTrack(next);
    old?.stop();
    this.changed({ hasCamera: true, cameraId });
  }

  async playTestSound(outputId: string = this.outputId): Promise<void> {
    if (typeof AudioContext === "undefined" || typeof document === "undefined") throw new Error("no Web Audio");
    const ctx = new AudioContext();
    const out = ctx.createMediaStreamDestination();
    const end = TEST_TONE.reduce((t, n) => Math.max(t, n.at + n.len), 0);
    const t0 = ctx.currentTime + 0.05;
    for (const n of TEST_TONE) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = n.hz;
      gain.gain.setValueAtTime(0, t0 + n.at);
      gain.gain.linearRampToValueAtTime(0.3, t0 + n.at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.001, t0 + n.at + n.len);
      osc.connect(gain).connect(out);
      osc.start(t0 + n.at);
      osc.stop(t0 + n.at + n.len);
    }
    // Through an <audio> element, which can be pointed at the chosen output.
    const el = document.createElement("audio") as SinkElement;
    el.srcObject = out.stream;
    try {
      if (outputId && el.setSinkId) await el.setSinkId(outputId);
      await el.play();
      if (ctx.state === "suspended") await ctx.resume();
      await new Promise((resolve) => setTimeout(resolve, (end + 0.15) * 1000));
    } finally {
      el.pause();
      el.srcObject = null;
      void ctx.close().catch(() => {});
    }
  }

  setMicMuted(muted: boolean): void {
    const mic = this.stream?.getAudioTracks()[0];
    if (!mic) return;
    mic.enabled = !muted;
    this.changed({ micMuted: muted });
  }

  setCameraOn(on: boolean): void {
    const cam = this.stream?.getVideoTracks()[0];
    if (!cam) return;
    cam.enabled = on;
    this.changed({ cameraOn: on });
  }

  async startScreenShare(): Promise<void> {
    const md = globalThis.navigator?.mediaDevices;
    if (!md?.getDisplayMedia || this.screen) return;
    const s = await md.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    const track = s.getVideoTracks()[0];
    if (!track) return;
    // Text and slides: keep the resolution and give up frame rate when bandwidth is short.
    if ("contentHint" in track) track.contentHint = "detail";
    this.screen = s;
    track.addEventListener("ended", () => this.stopScreenShare());
    if (this.pc) {
      this.screenTx = this.pc.addTransceiver(track, { direction: "sendonly", streams: [s], sendEncodings: [{ maxBitrate: 2_500_000 }] });
      this.applyVideoCodecs(this.screenTx);
    }
    this.changed({ sharingScreen: true });
  }

  stopScreenShare(): void {
    if (!this.screen) return;
    for (const t of this.screen.getTracks()) t.stop();
    this.screen = null;
    if (this.screenTx && this.pc && this.pc.signalingState !== "closed") {
      this.screenTx.sender.replaceTrack(null).catch(() => {});
      this.screenTx.direction = "inactive"; // renegotiates
    }
    this.screenTx = null;
    this.changed({ sharingScreen: false });
  }

  // ---- signalling ------------------------------------------------------------------------

  handle(msg: MediaServerMessage): void {
    switch (msg.type) {
      case "media_config":
        this.iceServers = msg.ice_servers;
        this.maxVideoHeight = msg.max_video_height;
        this.startPeer();
        break;
      case "media_answer":
        void this.enqueue(() => this.onAnswer(msg.sdp));
        break;
      case "media_offer":
        void this.enqueue(() => this.onOffer(msg.sdp));
        break;
      case "media_tracks":
        this.remote = msg.tracks;
        this.syncAudio();
        this.changed();
        break;
      case "media_layers":
        void this.setLayers(msg.kind, msg.active_rids);
        break;
    }
  }

  onOfferRefused(): void {
    if (!this.awaitingAnswer) return;
    this.awaitingAnswer = false;
    if (!this.simulcast) return;
    console.warn("samla: offer refused, retrying without simulcast");
    this.simulcast = false;
    this.startPeer();
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(step).catch((e: unknown) => console.error("samla: media", e));
    return this.queue;
  }

  private startPeer(): void {
    this.closePeer();
    const pc = new RTCPeerConnection({
      iceServers: this.iceServers as RTCIceServer[],
      bundlePolicy: "max-bundle",
      rtcpMuxPolicy: "require",
    });
    this.pc = pc;
    pc.addEventListener("negotiationneeded", () => void this.enqueue(() => this.offer(pc)));
    pc.addEventListener("track", () => {
      this.syncAudio();
      this.changed();
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc !== this.pc) return;
      const s = pc.connectionState;
      if (s === "connected") this.changed({ status: "connected" });
      else if (s === "failed") this.changed({ status: "failed" });
    });
    this.changed({ status: "connecting" });
    void this.enqueue(async () => {
      const stream = await this.streamReady;
      if (pc !== this.pc) return;
      this.publish(pc, stream);
    });
  }

  private publish(pc: RTCPeerConnection, stream: MediaStream | null): void {
    const mic = stream?.getAudioTracks()[0];
    const cam = stream?.getVideoTracks()[0];
    if (stream && mic) {
      this.audioTx = pc.addTransceiver(mic, { direction: "sendonly", streams: [stream] });
      const opus = capabilities("audio")?.filter((c) => c.mimeType.toLowerCase() === "audio/opus");
      if (opus?.length) this.audioTx.setCodecPreferences?.(opus);
    }
    if (stream && cam) {
      this.videoTx = pc.addTransceiver(cam, {
        direction: "sendonly",
        streams: [stream],
        sendEncodings: capEncodings(
          this.simulcast ? SIMULCAST : [{ maxBitrate: 1_500_000 }],
          cam.getSettings().height,
          this.maxVideoHeight,
        ),
      });
      this.applyVideoCodecs(this.videoTx);
    }
    const screen = this.screen?.getVideoTracks()[0];
    if (this.screen && screen) {
      this.screenTx = pc.addTransceiver(screen, { direction: "sendonly", streams: [this.screen] });
      this.applyVideoCodecs(this.screenTx);
    }
  }

  private applyVideoCodecs(tx: RTCRtpTransceiver): void {
    const caps = capabilities("video");
    const codecs = caps && preferH264(caps);
    if (codecs) tx.setCodecPreferences?.(codecs);
  }

  private publishedTracks(): PublishedTrack[] {
    const tracks: PublishedTrack[] = [];
    if (this.audioTx?.mid) tracks.push({ mid: this.audioTx.mid, kind: "audio" });
    if (this.videoTx?.mid) tracks.push({ mid: this.videoTx.mid, kind: "camera" });
    if (this.screenTx?.mid && this.screenTx.direction !== "inactive") tracks.push({ mid: this.screenTx.mid, kind: "screen" });
    return tracks;
  }

  /** No trickle ICE in the protocol: wait briefly for candidates to be in the SDP. */
  private gathered(pc: RTCPeerConnection, maxMs = 700): Promise<void> {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pc.removeEventListener("icegatheringstatechange", check);
        resolve();
      };
      const check = () => {
        if (pc.iceGatheringState === "complete") done();
      };
      const timer = setTimeout(done, maxMs);
      pc.addEventListener("icegatheringstatechange", check);
    });
  }

  private async offer(pc: RTCPeerConnection): Promise<void> {
    if (pc !== this.pc || pc.signalingState !== "stable") return; // fires again when stable
    await pc.setLocalDescription();
    await this.gathered(pc);
    if (pc !== this.pc || (pc.signalingState as RTCSignalingState) !== "have-local-offer" || !pc.localDescription) return;
    this.awaitingAnswer = true;
    this.send({ type: "media_offer", sdp: pc.localDescription.sdp, tracks: this.publishedTracks() });
  }

  private async onAnswer(sdp: string): Promise<void> {
    const pc = this.pc;
    if (!pc || pc.signalingState !== "have-local-offer") return; // answer to a rolled-back offer
    this.awaitingAnswer = false;
    await pc.setRemoteDescription({ type: "answer", sdp });
    await this.checkSimulcast();
    this.changed();
  }

  private async onOffer(sdp: string): Promise<void> {
    const pc = this.pc;
    if (!pc) return;
    if (pc.signalingState === "have-local-offer") {
      await pc.setLocalDescription({ type: "rollback" });
      this.awaitingAnswer = false;
    }
    await pc.setRemoteDescription({ type: "offer", sdp });
    await pc.setLocalDescription();
    await this.gathered(pc);
    if (pc.localDescription) this.send({ type: "media_answer", sdp: pc.localDescription.sdp });
    this.syncAudio();
    this.changed();
  }

  /** If the answer did not take simulcast, keep one full-size layer. */
  private async checkSimulcast(): Promise<void> {
    if (!this.videoTx || !this.simulcast) return;
    const params = this.videoTx.sender.getParameters();
    if ((params.encodings?.length ?? 0) >= 2) return;
    this.simulcast = false;
    const only = params.encodings?.[0];
    if (only) {
      const height = this.videoTx.sender.track?.getSettings().height;
      const [capped] = capEncodings([{}], height, this.maxVideoHeight);
      only.scaleResolutionDownBy = capped.scaleResolutionDownBy ?? 1;
      only.maxBitrate = 1_500_000;
      only.active = true;
      await this.videoTx.sender.setParameters(params);
    }
  }

  private async setLayers(kind: TrackKind, activeRids: string[]): Promise<void> {
    if (kind !== "camera" || !this.videoTx || !this.simulcast) return;
    const params = this.videoTx.sender.getParameters();
    if (!params.encodings?.every((e) => e.rid)) return;
    let changed = false;
    for (const e of params.encodings) {
      const active = activeRids.includes(e.rid!);
      if (e.active !== active) {
        e.active = active;
        changed = true;
      }
    }
    if (changed) await this.videoTx.sender.setParameters(params);
  }

  // ---- playback --------------------------------------------------------------------------

  private receiverTrack(mid: string): MediaStreamTrack | null {
    const tx = this.pc?.getTransceivers().find((x) => x.mid === mid);
    return tx ? tx.receiver.track : null;
  }

  private trackFor(source: VideoSource): MediaStreamTrack | null {
    if (source.kind === "local-camera") return this.stream?.getVideoTracks()[0] ?? null;
    if (source.kind === "local-screen") return this.screen?.getVideoTracks()[0] ?? null;
    const rt = this.remote.find((r) => r.participant === source.participant && r.kind === source.track);
    return rt ? this.receiverTrack(rt.mid) : null;
  }

  hasVideo(source: VideoSource): boolean {
    return this.trackFor(source) !== null;
  }

  attachVideo(container: HTMLElement, source: VideoSource): () => void {
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true; // audio plays through the sinks
    container.append(video);
    const update = () => {
      const track = this.trackFor(source);
      const current = (video.srcObject as MediaStream | null)?.getTracks()[0] ?? null;
      if (current === track) return;
      video.srcObject = track ? new MediaStream([track]) : null;
      if (track) video.play?.()?.catch(() => {});
    };
    update();
    const unsubscribe = this.subscribe(update);
    return () => {
      unsubscribe();
      video.srcObject = null;
      video.remove();
    };
  }

  /** One <audio> per remote audio track. */
  private syncAudio(): void {
    if (typeof document === "undefined") return;
    if (!this.sinkHost) {
      this.sinkHost = document.createElement("div");
      this.sinkHost.hidden = true;
      document.body.append(this.sinkHost);
    }
    const wanted = new Set<string>();
    for (const rt of this.remote) {
      if (rt.kind !== "audio") continue;
      const track = this.receiverTrack(rt.mid);
      if (!track) continue;
      wanted.add(rt.mid);
      let sink = this.sinks.get(rt.mid);
      if (!sink) {
        sink = document.createElement("audio");
        sink.autoplay = true;
        if (this.outputId) void (sink as SinkElement).setSinkId?.(this.outputId).catch(() => {});
        this.sinks.set(rt.mid, sink);
        this.sinkHost.append(sink);
      }
      if ((sink.srcObject as MediaStream | null)?.getTracks()[0] !== track) {
        sink.srcObject = new MediaStream([track]);
        sink.play?.()?.catch(() => {});
      }
    }
    for (const [mid, sink] of this.sinks) {
      if (wanted.has(mid)) continue;
      sink.srcObject = null;
      sink.remove();
      this.sinks.delete(mid);
    }
  }

  private closePeer(): void {
    this.pc?.close();
    this.pc = null;
    this.audioTx = this.videoTx = this.screenTx = null;
    this.awaitingAnswer = false;
  }

  close(): void {
    this.closePeer();
    this.stopScreenShare();
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    this.stream = null;
    this.streamReady = Promise.resolve(null);
    this.analyser = null;
    void this.levelCtx?.close().catch(() => {});
    this.levelCtx = null;
    this.remote = [];
    this.syncAudio();
    this.sinkHost?.remove();
    this.sinkHost = null;
    this.changed({ hasMic: false, hasCamera: false, micMuted: true, cameraOn: false, status: "idle" });
  }
}

/** A backend with no devices and no connection, for tests and for screens before media. */
export class NullMediaBackend implements MediaBackend {
  local: LocalMediaState = {
    hasMic: true,
    hasCamera: true,
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
  private listeners = new Set<() => void>();
  subscribe(l: () => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  private changed(patch: Partial<LocalMediaState>) {
    this.local = { ...this.local, ...patch };
    for (const l of [...this.listeners]) l();
  }
  async openDevices(opts: { mic: boolean; camera: boolean }) {
    this.changed({ micMuted: !opts.mic, cameraOn: opts.camera });
  }
  async listDevices(): Promise<MediaDeviceOption[]> {
    return [];
  }
  setMicMuted(muted: boolean) {
    this.changed({ micMuted: muted });
  }
  setCameraOn(on: boolean) {
    this.changed({ cameraOn: on });
  }
  async startScreenShare() {
    this.changed({ sharingScreen: true });
  }
  stopScreenShare() {
    this.changed({ sharingScreen: false });
  }
  handle() {}
  onOfferRefused() {}
  hasVideo() {
    return false;
  }
  attachVideo() {
    return () => {};
  }
  close() {}
}
