// SignallingClient: one WebSocket to the server's /ws. Says hello, joins, and when the socket
// drops while holding a seat, reconnects with backoff and resumes the seat with the resume
// token for up to RESUME_GRACE_SECS. Everything the server says is emitted as typed events.

import { hostOf } from "./server-host";
import {
  PROTOCOL_VERSION,
  RESUME_GRACE_SECS,
  parseServerMessage,
  type ChatPolicy,
  type ChatTarget,
  type ClientMessage,
  type Feedback,
  type MeetingId,
  type ParticipantId,
  type PublishedTrack,
  type Reaction,
  type Role,
  type ServerMessage,
  type SharePolicy,
  type ServerMessageOf,
  type ServerMessageType,
  type TrackKind,
} from "./messages";

/** The part of the browser's WebSocket the client uses, so tests can pass a fake. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

/** Where the connection stands, for the UI.
 * - idle: never connected, or left.
 * - connecting: first connection under way.
 * - open: welcomed by the server.
 * - reconnecting: the socket dropped while holding a seat; trying to resume it.
 * - lost: gave up (no seat to resume, the grace period passed, or the resume was refused).
 * - closed: the server ended our session (`closed`), or we left. */
export type ConnectionStatus = "idle" | "connecting" | "open" | "reconnecting" | "lost" | "closed";

export interface JoinRequest {
  meetingId: MeetingId;
  displayName: string;
  passcode?: string;
  token?: string;
  clientId?: string;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export interface SignallingOptions {
  /** ws:// or wss:// URL of the server's /ws. */
  url: string;
  /** Name and version for the server's logs. */
  clientName?: string;
  socketFactory?: SocketFactory;
  timers?: Timers;
  /** 0..1; jitter for the reconnect backoff (tests pass () => 0). */
  random?: () => number;
}

const OPEN = 1;
/** Backoff between reconnect attempts: 0.5 s, 1 s, 2 s, 4 s, then every 5 s. */
export const BACKOFF_MS: readonly number[] = [500, 1000, 2000, 4000, 5000];

type Handler<M> = (msg: M) => void;

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/** The signalling URL for a server host ("meet.uio.no", "localhost:8080") or the page's own. */
export function signallingUrl(host: string, secure: boolean): string {
  return `${secure ? "wss" : "ws"}://${hostOf(host)}/ws`;
}

export class SignallingClient {
  private readonly opts: Required<Omit<SignallingOptions, "clientName">> & { clientName: string };
  private socket: SocketLike | null = null;
  private welcomed = false;
  private pending: ClientMessage | null = null;
  private meetingId: MeetingId | null = null;
  private resumeToken: string | null = null;
  private droppedAt: number | null = null;
  private attempt = 0;
  private retryTimer: unknown = null;
  private finished = false;
  private _status: ConnectionStatus = "idle";
  private readonly handlers = new Map<string, Set<Handler<never>>>();
  private readonly anyHandlers = new Set<Handler<ServerMessage>>();
  private readonly statusHandlers = new Set<Handler<ConnectionStatus>>();

  constructor(options: SignallingOptions) {
    this.opts = {
      url: options.url,
      clientName: options.clientName ?? "samla-ui/0.1",
      socketFactory: options.socketFactory ?? ((url) => new WebSocket(url) as unknown as SocketLike),
      timers: options.timers ?? defaultTimers,
      random: options.random ?? Math.random,
    };
  }

  get status(): ConnectionStatus {
    return this._status;
  }

  // ---- events ----------------------------------------------------------------------------

  /** Calls `handler` for every server message of one type; returns the unsubscribe. */
  on<K extends ServerMessageType>(type: K, handler: Handler<ServerMessageOf<K>>): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(handler as Handler<never>);
    return () => set.delete(handler as Handler<never>);
  }

  /** Calls `handler` for every server message. */
  onMessage(handler: Handler<ServerMessage>): () => void {
    this.anyHandlers.add(handler);
    return () => this.anyHandlers.delete(handler);
  }

  onStatus(handler: Handler<ConnectionStatus>): () => void {
    this.statusHandlers.add(handler);
    return () => this.statusHandlers.delete(handler);
  }

  private emit(msg: ServerMessage): void {
    for (const h of [...(this.handlers.get(msg.type) ?? [])]) (h as Handler<ServerMessage>)(msg);
    for (const h of [...this.anyHandlers]) h(msg);
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this._status) return;
    this._status = status;
    for (const h of [...this.statusHandlers]) h(status);
  }

  // ---- connection ------------------------------------------------------------------------

  /** Asks to join; connects first if needed. Also used to retry with a passcode: the server
   * keeps the socket open after `passcode_required` and `wrong_passcode`. */
  join(req: JoinRequest): void {
    const msg: ClientMessage = { type: "join", meeting_id: req.meetingId, display_name: req.displayName };
    if (req.passcode) msg.passcode = req.passcode;
    if (req.token) msg.token = req.token;
    if (req.clientId) msg.client_id = req.clientId;
    this.finished = false;
    this.meetingId = req.meetingId;
    this.sendOrQueue(msg);
  }

  /** Leaves the meeting for good and closes the socket. */
  leave(): void {
    this.send({ type: "leave" });
    this.shutDown("idle");
  }

  /** Closes the socket without a `leave` (the seat stays until the grace period passes). */
  disconnect(): void {
    this.shutDown("idle");
  }

  private shutDown(status: ConnectionStatus): void {
    this.finished = true;
    this.resumeToken = null;
    this.pending = null;
    this.cancelRetry();
    const s = this.socket;
    this.socket = null;
    this.welcomed = false;
    if (s) {
      s.onclose = null;
      s.onmessage = null;
      s.close(1000);
    }
    this.setStatus(status);
  }

  private sendOrQueue(msg: ClientMessage): void {
    if (this.socket && this.welcomed && this.socket.readyState === OPEN) {
      this.socket.send(JSON.stringify(msg));
      return;
    }
    this.pending = msg;
    if (!this.socket) this.open(false);
  }

  private open(reconnecting: boolean): void {
    this.welcomed = false;
    this.setStatus(reconnecting ? "reconnecting" : "connecting");
    let socket: SocketLike;
    try {
      socket = this.opts.socketFactory(this.opts.url);
    } catch {
      this.onDrop();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: "hello", version: PROTOCOL_VERSION, client: this.opts.clientName }));
    };
    socket.onmessage = (ev) => {
      const msg = parseServerMessage(ev.data);
      if (msg) this.receive(msg);
    };
    socket.onerror = () => {
      /* a close event follows */
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.welcomed = false;
      this.onDrop();
    };
  }

  private receive(msg: ServerMessage): void {
    switch (msg.type) {
      case "welcome": {
        this.welcomed = true;
        this.attempt = 0;
        const first = this.pending;
        this.pending = null;
        if (first) this.socket?.send(JSON.stringify(first));
        if (first?.type !== "resume") this.setStatus("open");
        break;
      }
      case "waiting":
      case "joined":
        this.resumeToken = msg.resume_token;
        this.meetingId = msg.meeting.id;
        this.droppedAt = null;
        this.setStatus("open");
        break;
      case "closed":
        // The server closes the socket next; nothing to resume.
        this.finished = true;
        this.resumeToken = null;
        this.setStatus("closed");
        break;
      case "error":
        if (msg.code === "resume_failed") {
          this.resumeToken = null;
          this.shutDown("lost");
        }
        break;
      default:
        break;
    }
    this.emit(msg);
  }

  private onDrop(): void {
    if (this.finished) {
      if (this._status !== "closed") this.setStatus("idle");
      return;
    }
    if (!this.resumeToken || !this.meetingId) {
      // Nothing to resume: the first connection failed, or we were not seated yet.
      this.pending = null;
      this.setStatus("lost");
      return;
    }
    const now = this.opts.timers.now();
    if (this.droppedAt === null) this.droppedAt = now;
    const left = this.droppedAt + RESUME_GRACE_SECS * 1000 - now;
    if (left <= 0) {
      this.resumeToken = null;
      this.setStatus("lost");
      return;
    }
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)] ?? 5000;
    const delay = Math.min(left, Math.round(base * (1 + 0.25 * this.opts.random())));
    this.attempt += 1;
    this.setStatus("reconnecting");
    this.pending = { type: "resume", meeting_id: this.meetingId, resume_token: this.resumeToken };
    this.retryTimer = this.opts.timers.setTimeout(() => {
      this.retryTimer = null;
      if (!this.finished) this.open(true);
    }, delay);
  }

  private cancelRetry(): void {
    if (this.retryTimer !== null) this.opts.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  // ---- sending ---------------------------------------------------------------------------

  /** Sends a message if welcomed; returns false (and drops it) otherwise. */
  send(msg: ClientMessage): boolean {
    if (!this.socket || !this.welcomed || this.socket.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(msg));
    return true;
  }

  admit(participant: ParticipantId) {
    return this.send({ type: "admit", participant });
  }
  admitAll() {
    return this.send({ type: "admit_all" });
  }
  deny(participant: ParticipantId) {
    return this.send({ type: "deny", participant });
  }
  sendToWaitingRoom(participant: ParticipantId) {
    return this.send({ type: "send_to_waiting_room", participant });
  }
  setLocked(locked: boolean) {
    return this.send({ type: "set_locked", locked });
  }
  endForAll() {
    return this.send({ type: "end_for_all" });
  }
  remove(participant: ParticipantId) {
    return this.send({ type: "remove", participant });
  }
  setRole(participant: ParticipantId, role: Role) {
    return this.send({ type: "set_role", participant, role });
  }
  handOverHost(participant: ParticipantId) {
    return this.send({ type: "hand_over_host", participant });
  }
  mute(participant: ParticipantId) {
    return this.send({ type: "mute", participant });
  }
  muteAll() {
    return this.send({ type: "mute_all" });
  }
  askToUnmute(participant: ParticipantId) {
    return this.send({ type: "ask_to_unmute", participant });
  }
  setChatPolicy(policy: ChatPolicy) {
    return this.send({ type: "set_chat_policy", policy });
  }
  setSharePolicy(policy: SharePolicy) {
    return this.send({ type: "set_share_policy", policy });
  }
  setMuteOnEntry(muteOnEntry: boolean) {
    return this.send({ type: "set_mute_on_entry", mute_on_entry: muteOnEntry });
  }
  /** Lets participants unmute themselves, or (false) only after a host asked them to. */
  setSelfUnmute(allowed: boolean) {
    return this.send({ type: "set_self_unmute", allowed });
  }
  /** Shows one participant's video as everyone's main picture; `null` ends the spotlight. */
  setSpotlight(participant: ParticipantId | null) {
    return this.send({ type: "set_spotlight", participant });
  }
  /** Gives (or with `null` takes back) one's answer without words. */
  setFeedback(feedback: Feedback | null) {
    return this.send({ type: "set_feedback", feedback });
  }
  /** Clears everyone's feedback, for the next question (hosts). */
  clearFeedback() {
    return this.send({ type: "clear_feedback" });
  }
  /** Puts a question to the meeting (hosts and co-hosts); the server refuses it while a poll
   * is open, and answers with `poll` to everyone. */
  startPoll(question: string, options: string[], multiple: boolean) {
    return this.send({ type: "start_poll", question, options, multiple });
  }
  /** Answers the open poll with option indexes; a new answer replaces one's earlier one. */
  vote(poll: number, choices: number[]) {
    return this.send({ type: "vote", poll, choices });
  }
  /** Stops taking answers (hosts and co-hosts). */
  endPoll(poll: number) {
    return this.send({ type: "end_poll", poll });
  }
  /** Shows everyone how many picked each answer (hosts and co-hosts). */
  sharePollResults(poll: number) {
    return this.send({ type: "share_poll_results", poll });
  }
  setMedia(audioMuted: boolean, videoOn: boolean) {
    return this.send({ type: "set_media", audio_muted: audioMuted, video_on: videoOn });
  }
  raiseHand() {
    return this.send({ type: "raise_hand" });
  }
  /** Lowers one's own hand, or (hosts) someone else's. */
  lowerHand(participant?: ParticipantId) {
    return this.send(participant === undefined ? { type: "lower_hand" } : { type: "lower_hand", participant });
  }
  /** Renames oneself, or (hosts) someone else. */
  rename(name: string, participant?: ParticipantId) {
    return this.send(participant === undefined ? { type: "rename", name } : { type: "rename", participant, name });
  }
  react(reaction: Reaction) {
    return this.send({ type: "react", reaction });
  }
  chat(to: ChatTarget, text: string) {
    return this.send({ type: "chat", to, text });
  }
  mediaOffer(sdp: string, tracks: PublishedTrack[]) {
    return this.send({ type: "media_offer", sdp, tracks });
  }
  mediaAnswer(sdp: string) {
    return this.send({ type: "media_answer", sdp });
  }
  subscribeVideo(participant: ParticipantId, kind: TrackKind, maxHeight: number) {
    return this.send({ type: "subscribe_video", participant, kind, max_height: maxHeight });
  }
}
