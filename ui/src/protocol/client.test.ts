import { beforeEach, describe, expect, it } from "vitest";
import { SignallingClient, signallingUrl, type SocketLike, type Timers, type ConnectionStatus } from "./client";
import type { ClientMessage, ServerMessage } from "./messages";
import { meetingState } from "../test/fixtures";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: ClientMessage[] = [];
  closed = false;
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(JSON.parse(data) as ClientMessage);
  }
  close() {
    this.closed = true;
    this.readyState = 3;
  }
  // test side
  open() {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  receive(msg: ServerMessage | string) {
    this.onmessage?.({ data: typeof msg === "string" ? msg : JSON.stringify(msg) } as MessageEvent);
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({ code: 1006 } as CloseEvent);
  }
}

class FakeTimers implements Timers {
  t = 0;
  private queue: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  setTimeout(fn: () => void, ms: number) {
    const id = ++this.seq;
    this.queue.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown) {
    this.queue = this.queue.filter((x) => x.id !== h);
  }
  now() {
    return this.t;
  }
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at);
      const next = this.queue[0];
      if (!next || next.at > end) break;
      this.queue.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
  get pending() {
    return this.queue.length;
  }
}

const meeting = meetingState({ topic: "Møte" });
const joinedMsg = (token: string): ServerMessage => ({
  type: "joined",
  you: 4,
  role: "participant",
  resume_token: token,
  meeting,
  participants: [],
  waiting: [],
  chat: [],
});

describe("SignallingClient", () => {
  let sockets: FakeSocket[];
  let timers: FakeTimers;
  let client: SignallingClient;
  let statuses: ConnectionStatus[];
  const last = () => sockets[sockets.length - 1]!;

  beforeEach(() => {
    sockets = [];
    timers = new FakeTimers();
    statuses = [];
    client = new SignallingClient({
      url: "wss://meet.example/ws",
      clientName: "test",
      timers,
      random: () => 0,
      socketFactory: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
    });
    client.onStatus((s) => statuses.push(s));
  });

  const connectAndJoin = () => {
    client.join({ meetingId: "123456789", displayName: "Ola", clientId: "c1" });
    last().open();
    last().receive({ type: "welcome", version: 1, server: "samla" });
    last().receive(joinedMsg("tok-1"));
  };

  it("says hello, then joins once welcomed", () => {
    client.join({ meetingId: "123456789", displayName: "Ola", passcode: "1234" });
    expect(sockets).toHaveLength(1);
    expect(last().url).toBe("wss://meet.example/ws");
    last().open();
    expect(last().sent).toEqual([{ type: "hello", version: 1, client: "test" }]);
    last().receive({ type: "welcome", version: 1, server: "samla" });
    expect(last().sent[1]).toEqual({ type: "join", meeting_id: "123456789", display_name: "Ola", passcode: "1234" });
    expect(client.status).toBe("open");
  });

  it("emits typed events and ignores garbage", () => {
    const seen: string[] = [];
    client.on("chat", (m) => seen.push(`chat:${m.message.text}`));
    client.onMessage((m) => seen.push(m.type));
    connectAndJoin();
    last().receive("not json");
    last().receive(JSON.stringify({ type: "from_the_future" }));
    last().receive({ type: "chat", message: { seq: 1, from: 1, from_name: "Kari", to: { kind: "everyone" }, text: "Hei", sent_at_ms: 0 } });
    expect(seen).toEqual(["welcome", "joined", "chat:Hei", "chat"]);
  });

  it("retries a join with a passcode on the same socket", () => {
    const errors: string[] = [];
    client.on("error", (e) => errors.push(e.code));
    client.join({ meetingId: "123456789", displayName: "Ola" });
    last().open();
    last().receive({ type: "welcome", version: 1, server: "samla" });
    last().receive({ type: "error", code: "passcode_required", message: "" });
    client.join({ meetingId: "123456789", displayName: "Ola", passcode: "42" });
    expect(sockets).toHaveLength(1);
    expect(last().sent.at(-1)).toMatchObject({ type: "join", passcode: "42" });
    expect(errors).toEqual(["passcode_required"]);
  });

  it("has send helpers for every action", () => {
    connectAndJoin();
    const s = last();
    s.sent = [];
    client.admit(5);
    client.admitAll();
    client.deny(5);
    client.sendToWaitingRoom(5);
    client.setLocked(true);
    client.remove(5);
    client.setRole(5, "co_host");
    client.handOverHost(5);
    client.mute(5);
    client.muteAll();
    client.askToUnmute(5);
    client.setChatPolicy("hosts_only");
    client.setSharePolicy("hosts_only");
    client.setMuteOnEntry(true);
    client.setSelfUnmute(false);
    client.setMedia(true, false);
    client.raiseHand();
    client.lowerHand();
    client.lowerHand(5);
    client.rename("Ola N.");
    client.rename("Kari", 5);
    client.react("heart");
    client.chat({ kind: "participant", id: 5 }, "hei");
    client.mediaOffer("v=0", [{ mid: "0", kind: "audio" }]);
    client.mediaAnswer("v=0");
    client.subscribeVideo(5, "camera", 360);
    client.endForAll();
    expect(s.sent).toEqual([
      { type: "admit", participant: 5 },
      { type: "admit_all" },
      { type: "deny", participant: 5 },
      { type: "send_to_waiting_room", participant: 5 },
      { type: "set_locked", locked: true },
      { type: "remove", participant: 5 },
      { type: "set_role", participant: 5, role: "co_host" },
      { type: "hand_over_host", participant: 5 },
      { type: "mute", participant: 5 },
      { type: "mute_all" },
      { type: "ask_to_unmute", participant: 5 },
      { type: "set_chat_policy", policy: "hosts_only" },
      { type: "set_share_policy", policy: "hosts_only" },
      { type: "set_mute_on_entry", mute_on_entry: true },
      { type: "set_self_unmute", allowed: false },
      { type: "set_media", audio_muted: true, video_on: false },
      { type: "raise_hand" },
      { type: "lower_hand" },
      { type: "lower_hand", participant: 5 },
      { type: "rename", name: "Ola N." },
      { type: "rename", participant: 5, name: "Kari" },
      { type: "react", reaction: "heart" },
      { type: "chat", to: { kind: "participant", id: 5 }, text: "hei" },
      { type: "media_offer", sdp: "v=0", tracks: [{ mid: "0", kind: "audio" }] },
      { type: "media_answer", sdp: "v=0" },
      { type: "subscribe_video", participant: 5, kind: "camera", max_height: 360 },
      { type: "end_for_all" },
    ]);
  });

  it("drops sends while not connected", () => {
    expect(client.raiseHand()).toBe(false);
  });

  it("resumes the seat with backoff after a drop", () => {
    connectAndJoin();
    last().drop();
    expect(client.status).toBe("reconnecting");
    expect(sockets).toHaveLength(1);
    timers.advance(499);
    expect(sockets).toHaveLength(1);
    timers.advance(1);
    expect(sockets).toHaveLength(2);
    // The second attempt fails too: wait 1 s this time.
    last().drop();
    timers.advance(999);
    expect(sockets).toHaveLength(2);
    timers.advance(1);
    expect(sockets).toHaveLength(3);
    last().open();
    last().receive({ type: "welcome", version: 1, server: "samla" });
    expect(last().sent).toEqual([
      { type: "hello", version: 1, client: "test" },
      { type: "resume", meeting_id: "123456789", resume_token: "tok-1" },
    ]);
    expect(client.status).toBe("reconnecting");
    last().receive(joinedMsg("tok-2"));
    expect(client.status).toBe("open");
    // A later drop resumes with the new token, and the backoff starts over.
    last().drop();
    timers.advance(500);
    last().open();
    last().receive({ type: "welcome", version: 1, server: "samla" });
    expect(last().sent[1]).toEqual({ type: "resume", meeting_id: "123456789", resume_token: "tok-2" });
  });

  it("gives up when the grace period has passed", () => {
    connectAndJoin();
    last().drop();
    for (let i = 0; i < 40 && client.status === "reconnecting"; i++) {
      timers.advance(5000);
      last().drop();
    }
    expect(client.status).toBe("lost");
    expect(timers.now()).toBeLessThanOrEqual(65_000);
    expect(timers.pending).toBe(0);
    expect(statuses).toContain("reconnecting");
  });

  it("gives up when the server refuses the resume", () => {
    connectAndJoin();
    last().drop();
    timers.advance(500);
    last().open();
    last().receive({ type: "welcome", version: 1, server: "samla" });
    last().receive({ type: "error", code: "resume_failed", message: "expired" });
    expect(client.status).toBe("lost");
    expect(timers.pending).toBe(0);
  });

  it("does not reconnect after closed or leave", () => {
    connectAndJoin();
    last().receive({ type: "closed", reason: "meeting_ended" });
    last().drop();
    expect(client.status).toBe("closed");
    expect(timers.pending).toBe(0);

    const c2 = sockets.length;
    connectAndJoin();
    expect(sockets.length).toBe(c2 + 1);
    const s = last();
    client.leave();
    expect(s.sent.at(-1)).toEqual({ type: "leave" });
    expect(s.closed).toBe(true);
    expect(timers.pending).toBe(0);
  });

  it("reports a first connection that fails as lost", () => {
    client.join({ meetingId: "123456789", displayName: "Ola" });
    last().drop();
    expect(client.status).toBe("lost");
    expect(timers.pending).toBe(0);
  });
});

describe("signallingUrl", () => {
  it("builds ws URLs from host names and links", () => {
    expect(signallingUrl("meet.uio.no", true)).toBe("wss://meet.uio.no/ws");
    expect(signallingUrl("https://meet.uio.no/j/123", true)).toBe("wss://meet.uio.no/ws");
    expect(signallingUrl("localhost:8080", false)).toBe("ws://localhost:8080/ws");
  });
});
