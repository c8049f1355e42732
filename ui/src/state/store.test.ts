import { describe, expect, it } from "vitest";
import type { ChatMessage, MeetingState, ParticipantInfo, PollView, ServerMessage } from "../protocol/messages";
import { amHost, amModerator, canChat, chatAudience, initialView, mayShare, mayUnmute, reduce, type MeetingView, type StoreAction } from "./store";
import { meetingState, participant } from "../test/fixtures";

const meeting: MeetingState = meetingState({ topic: "Forelesning", waiting_room: true });
const person = (id: number, name: string, role: ParticipantInfo["role"] = "participant"): ParticipantInfo =>
  participant(id, name, { role, video_on: true });
const chat = (seq: number, from: number, from_name: string, to: ChatMessage["to"], text: string): ChatMessage => ({
  seq,
  from,
  from_name,
  to,
  text,
  sent_at_ms: 1_700_000_000_000 + seq,
});
const run = (...actions: StoreAction[]): MeetingView => actions.reduce(reduce, initialView);
const joined = (you: number, role: ParticipantInfo["role"], participants: ParticipantInfo[], extra: Partial<Extract<ServerMessage, { type: "joined" }>> = {}): ServerMessage => ({
  type: "joined",
  you,
  role,
  resume_token: "tok",
  meeting,
  participants,
  waiting: [],
  chat: [],
  ...extra,
});

describe("meeting store", () => {
  it("joins straight into the meeting", () => {
    const v = run(joined(1, "host", [person(1, "Kari", "host")]), { type: "participant_joined", participant: person(2, "Ola") });
    expect(v.phase).toBe("joined");
    expect(v.me).toBe(1);
    expect(amHost(v)).toBe(true);
    expect(v.participants.map((p) => p.name)).toEqual(["Kari", "Ola"]);
  });

  it("goes from the waiting room to the meeting when admitted", () => {
    let v = run({ type: "waiting", you: 7, resume_token: "w", meeting });
    expect(v.phase).toBe("waiting");
    expect(v.meeting?.topic).toBe("Forelesning");
    v = reduce(v, joined(7, "participant", [person(1, "Kari", "host"), person(7, "Per")], { chat: [chat(1, 1, "Kari", { kind: "everyone" }, "Hei")] }));
    expect(v.phase).toBe("joined");
    expect(v.chat).toHaveLength(1);
    expect(v.unread).toBe(0); // history is not unread
    expect(amModerator(v)).toBe(false);
  });

  it("shows hosts the waiting room and clears admitted people from it", () => {
    let v = run(joined(1, "host", [person(1, "Kari", "host")]), {
      type: "waiting_room",
      waiting: [{ id: 5, name: "Gjest", signed_in: false }],
    });
    expect(v.waiting).toHaveLength(1);
    v = reduce(v, { type: "participant_joined", participant: person(5, "Gjest") });
    expect(v.waiting).toHaveLength(0);
  });

  it("tells hosts who came to the waiting room until they are let in or gone", () => {
    const w = (id: number, name: string) => ({ id, name, signed_in: false });
    let v = run(joined(1, "host", [person(1, "Kari", "host")]));
    v = reduce(v, { type: "waiting_room", waiting: [w(5, "Ola")] });
    expect(v.notices.at(-1)).toMatchObject({ kind: "someone_waiting", who: [w(5, "Ola")] });
    // Per arrives: one more notice, for Per only.
    v = reduce(v, { type: "waiting_room", waiting: [w(5, "Ola"), w(6, "Per")] });
    expect(v.notices.filter((n) => n.kind === "someone_waiting").map((n) => n.kind === "someone_waiting" && n.who.map((x) => x.name))).toEqual([["Ola"], ["Per"]]);
    // Ola is let in: Ola's notice goes, Per's stays.
    v = reduce(v, { type: "waiting_room", waiting: [w(6, "Per")] });
    expect(v.notices.filter((n) => n.kind === "someone_waiting")).toHaveLength(1);
    v = reduce(v, { type: "waiting_room", waiting: [] });
    expect(v.notices.filter((n) => n.kind === "someone_waiting")).toHaveLength(0);

    // A participant is not told (and is not sent the waiting room anyway).
    let p = run(joined(2, "participant", [person(1, "Kari", "host"), person(2, "Ola")]));
    p = reduce(p, { type: "waiting_room", waiting: [w(7, "Siri")] });
    expect(p.notices).toHaveLength(0);
  });

  it("tells hosts of a hand raised, once, and not the one who raised it", () => {
    const raised = (p: ParticipantInfo) => ({ ...p, hand_raised: true });
    let v = run(joined(1, "host", [person(1, "Kari", "host"), person(2, "Ola")]));
    v = reduce(v, { type: "participant_updated", participant: raised(person(2, "Ola")) });
    expect(v.notices.at(-1)).toMatchObject({ kind: "hand_raised", participant: 2, name: "Ola" });
    // Ola mutes with the hand still up: no second notice.
    v = reduce(v, { type: "participant_updated", participant: { ...raised(person(2, "Ola")), audio_muted: true } });
    expect(v.notices.filter((n) => n.kind === "hand_raised")).toHaveLength(1);
    // Kari's own hand is not news to Kari; nor is Ola's to another participant.
    v = reduce(v, { type: "participant_updated", participant: raised(person(1, "Kari", "host")) });
    expect(v.notices.filter((n) => n.kind === "hand_raised")).toHaveLength(1);
    let p = run(joined(3, "participant", [person(1, "Kari", "host"), person(2, "Ola"), person(3, "Per")]));
    p = reduce(p, { type: "participant_updated", participant: raised(person(2, "Ola")) });
    expect(p.notices).toHaveLength(0);
  });

  it("previews a chat message from someone else while the chat is closed, until it is opened", () => {
    let v = run(joined(2, "participant", [person(1, "Kari", "host"), person(2, "Ola")]));
    v = reduce(v, { type: "chat", message: chat(1, 1, "Kari", { kind: "everyone" }, "Spørsmål? " + "x".repeat(200)) });
    const preview = v.notices.at(-1);
    expect(preview).toMatchObject({ kind: "chat_message", from: "Kari", private: false });
    expect(preview?.kind === "chat_message" && preview.text.length).toBe(101);
    v = reduce(v, { type: "chat", message: chat(2, 1, "Kari", { kind: "participant", id: 2 }, "Psst") });
    expect(v.notices.at(-1)).toMatchObject({ kind: "chat_message", text: "Psst", private: true });
    // My own messages are not news; an open chat shows them itself, and clears the previews.
    v = reduce(v, { type: "chat", message: chat(3, 2, "Ola", { kind: "everyone" }, "Hei") });
    expect(v.notices.filter((n) => n.kind === "chat_message")).toHaveLength(2);
    v = reduce(v, { type: "local/chat_open", open: true });
    expect(v.notices.filter((n) => n.kind === "chat_message")).toHaveLength(0);
    v = reduce(v, { type: "chat", message: chat(4, 1, "Kari", { kind: "everyone" }, "Bra") });
    expect(v.notices.filter((n) => n.kind === "chat_message")).toHaveLength(0);
  });

  it("hands the host role over", () => {
    let v = run(joined(1, "host", [person(1, "Kari", "host"), person(2, "Ola")]));
    v = reduce(v, { type: "participant_updated", participant: person(2, "Ola", "host") });
    v = reduce(v, { type: "participant_updated", participant: person(1, "Kari", "co_host") });
    expect(v.role).toBe("co_host");
    expect(amHost(v)).toBe(false);
    expect(amModerator(v)).toBe(true);
    expect(v.notices.at(-1)).toMatchObject({ kind: "role_changed", role: "co_host", from: "host" });
    // And Ola, on their side, becomes host.
    let o = run(joined(2, "participant", [person(1, "Kari", "host"), person(2, "Ola")]));
    o = reduce(o, { type: "participant_updated", participant: person(2, "Ola", "host") });
    expect(amHost(o)).toBe(true);
    expect(o.notices.at(-1)).toMatchObject({ kind: "role_changed", role: "host", from: "participant" });
  });

  it("tells a host who loses the role to the meeting's owner", () => {
    let v = run(joined(1, "host", [person(1, "Kari", "host")]));
    v = reduce(v, { type: "participant_joined", participant: person(2, "Kari", "host") });
    v = reduce(v, { type: "participant_updated", participant: person(1, "Kari", "participant") });
    expect(v.role).toBe("participant");
    expect(v.notices.at(-1)).toMatchObject({ kind: "role_changed", role: "participant", from: "host" });
  });

  it("counts unread chat while the panel is closed and labels private messages", () => {
    let v = run(joined(2, "participant", [person(1, "Kari", "host"), person(2, "Ola"), person(3, "Per")]));
    v = reduce(v, { type: "chat", message: chat(1, 1, "Kari", { kind: "everyone" }, "Velkommen") });
    v = reduce(v, { type: "chat", message: chat(2, 3, "Per", { kind: "participant", id: 2 }, "Psst") });
    v = reduce(v, { type: "chat", message: chat(3, 2, "Ola", { kind: "participant", id: 3 }, "Ja?") });
    v = reduce(v, { type: "chat", message: chat(4, 2, "Ola", { kind: "hosts" }, "Spørsmål") });
    expect(v.unread).toBe(2); // own messages do not count
    v = reduce(v, { type: "chat", message: chat(2, 3, "Per", { kind: "participant", id: 2 }, "Psst") });
    expect(v.chat).toHaveLength(4); // duplicates by seq are dropped
    expect(chatAudience(v, v.chat[0]!)).toEqual({ kind: "everyone" });
    expect(chatAudience(v, v.chat[1]!)).toEqual({ kind: "private_to_me", from: "Per" });
    expect(chatAudience(v, v.chat[2]!)).toEqual({ kind: "private_from_me", to: "Per" });
    expect(chatAudience(v, v.chat[3]!)).toEqual({ kind: "hosts" });
    v = reduce(v, { type: "local/chat_open", open: true });
    expect(v.unread).toBe(0);
    v = reduce(v, { type: "chat", message: chat(5, 1, "Kari", { kind: "everyone" }, "Pause") });
    expect(v.unread).toBe(0);
  });

  it("follows the chat policy", () => {
    let v = run(joined(2, "participant", [person(1, "Kari", "host"), person(2, "Ola")]));
    expect(canChat(v, "everyone")).toBe(true);
    v = reduce(v, { type: "meeting_updated", meeting: { ...meeting, chat_policy: "hosts_only" } });
    expect(canChat(v, "everyone")).toBe(false);
    expect(canChat(v, "hosts")).toBe(true);
    v = reduce(v, { type: "meeting_updated", meeting: { ...meeting, chat_policy: "off" } });
    expect(canChat(v, "hosts")).toBe(false);
  });

  it("tells others about a removal and ends the removed person's session", () => {
    let host = run(joined(1, "host", [person(1, "Kari", "host"), person(2, "Ola")]), { type: "active_speaker", participant: 2 });
    host = reduce(host, { type: "participant_left", participant: 2, reason: "removed" });
    expect(host.participants.map((p) => p.id)).toEqual([1]);
    expect(host.activeSpeaker).toBeNull();
    expect(host.notices.at(-1)).toMatchObject({ kind: "participant_removed", name: "Ola" });

    let ola = run(joined(2, "participant", [person(1, "Kari", "host"), person(2, "Ola")]));
    ola = reduce(ola, { type: "closed", reason: "removed" });
    expect(ola.phase).toBe("ended");
    expect(ola.closedReason).toBe("removed");
  });

  it("goes back to the waiting room when sent there", () => {
    let v = run(joined(2, "participant", [person(1, "Kari", "host"), person(2, "Ola")]));
    v = reduce(v, { type: "moved_to_waiting_room" });
    expect(v.phase).toBe("waiting");
    expect(v.participants).toEqual([]);
  });

  it("keeps join refusals for the pre-join screen and notices for the meeting", () => {
    let v = run({ type: "error", code: "passcode_required", message: "" });
    expect(v.joinError).toBe("passcode_required");
    v = reduce(v, { type: "local/joining" });
    expect(v.joinError).toBeNull();
    v = reduce(v, joined(1, "participant", [person(1, "Ola")]));
    v = reduce(v, { type: "error", code: "not_allowed", message: "no" });
    expect(v.notices.at(-1)).toMatchObject({ kind: "error", code: "not_allowed" });
  });

  it("tracks the active speaker, muted_by and reactions", () => {
    let v = run(joined(2, "participant", [person(1, "Kari", "host"), person(2, "Ola")]));
    v = reduce(v, { type: "active_speaker", participant: 1 });
    v = reduce(v, { type: "muted_by", by: 1 });
    v = reduce(v, { type: "reaction", participant: 1, reaction: "clap" });
    expect(v.activeSpeaker).toBe(1);
    expect(v.notices.at(-1)).toMatchObject({ kind: "muted_by", by: "Kari" });
    expect(v.reactions).toMatchObject([{ participant: 1, reaction: "clap" }]);
    v = reduce(v, { type: "local/reaction_done", id: v.reactions[0]!.id });
    expect(v.reactions).toEqual([]);
  });

  it("tells a participant muted on entry why, once per entry, and not the hosts", () => {
    const onEntry = { meeting: { ...meeting, mute_on_entry: true } };
    let v = run(joined(2, "participant", [person(1, "Kari", "host"), person(2, "Ola")], onEntry));
    expect(v.notices.map((n) => n.kind === "muted_on_entry" && n.mayUnmute)).toEqual([true]);
    // A resume of the seat is no entry.
    v = reduce(v, joined(2, "participant", [person(1, "Kari", "host"), person(2, "Ola")], onEntry));
    expect(v.notices).toHaveLength(1);
    expect(run(joined(1, "host", [person(1, "Kari", "host")], onEntry)).notices).toEqual([]);
    expect(run(joined(1, "co_host", [person(1, "Kari", "co_host")], onEntry)).notices).toEqual([]);

    // Not allowed to unmute either: the notice says so; without mute on entry, it is told alone.
    const locked = { ...person(2, "Ola"), may_unmute: false };
    expect(run(joined(2, "participant", [locked], onEntry)).notices).toMatchObject([{ kind: "muted_on_entry", mayUnmute: false }]);
    expect(run(joined(2, "participant", [locked], { meeting: { ...meeting, self_unmute: false } })).notices).toMatchObject([{ kind: "unmute_not_allowed" }]);
  });

  it("follows whether I may unmute and share, and drops the refusal once a host lets me speak", () => {
    let v = run(joined(2, "participant", [person(1, "Kari", "host"), { ...person(2, "Ola"), may_unmute: false }], { meeting: { ...meeting, self_unmute: false } }));
    expect(mayUnmute(v)).toBe(false);
    // Pressed again and again, the refusal is told once.
    v = reduce(v, { type: "local/notice", kind: "unmute_not_allowed" });
    v = reduce(v, { type: "local/notice", kind: "unmute_not_allowed" });
    expect(v.notices.filter((n) => n.kind === "unmute_not_allowed")).toHaveLength(1);
    v = reduce(v, { type: "participant_updated", participant: { ...person(2, "Ola"), may_unmute: true } });
    expect(mayUnmute(v)).toBe(true);
    expect(v.notices.filter((n) => n.kind === "unmute_not_allowed")).toEqual([]);

    expect(mayShare(v)).toBe(true);
    v = reduce(v, { type: "meeting_updated", meeting: { ...meeting, share_policy: "hosts_only" } });
    expect(mayShare(v)).toBe(false);
    v = reduce(v, { type: "participant_updated", participant: person(2, "Ola", "co_host") });
    expect(mayShare(v)).toBe(true);
  });
});

describe("meeting store: polls", () => {
  const quiz: PollView = { id: 1, by: 1, question: "2 + 2?", options: ["3", "4"], multiple: false, open: true, answered: 0, shared: false, mine: [] };
  const poll = (p: Partial<PollView> = {}): StoreAction => ({ type: "poll", poll: { ...quiz, ...p } });
  const class3 = [person(1, "Kari", "host"), person(2, "Ola"), person(3, "Siri", "co_host")];
  const pollNotices = (v: MeetingView) => v.notices.filter((n) => n.kind === "poll_started" || n.kind === "poll_shared").map((n) => n.kind);

  it("keeps the latest poll: a newer one replaces it, a late word about an older one is dropped", () => {
    let v = run(joined(2, "participant", class3), poll({ mine: [1] }));
    expect(v.poll).toMatchObject({ id: 1, mine: [1] });
    v = reduce(v, poll({ id: 2, question: "3 + 3?" }));
    expect(v.poll).toMatchObject({ id: 2, question: "3 + 3?", mine: [] });
    v = reduce(v, poll({ open: false, shared: true, results: [0, 1] }));
    expect(v.poll?.id).toBe(2);
    // Resumed, the poll stays; sent to the waiting room, it goes with the meeting.
    v = reduce(v, joined(2, "participant", class3));
    expect(v.poll?.id).toBe(2);
    v = reduce(v, { type: "moved_to_waiting_room" });
    expect(v.poll).toBeNull();
  });

  it("tells a participant of a new poll and of shared results, once each, with a name", () => {
    let v = run(joined(2, "participant", class3), poll());
    expect(v.notices.at(-1)).toMatchObject({ kind: "poll_started", poll: 1, name: "Kari" });
    // An answer or the count changing is no news.
    v = reduce(v, poll({ mine: [1] }));
    expect(pollNotices(v)).toEqual(["poll_started"]);
    // Ended: there is nothing left to answer.
    v = reduce(v, poll({ mine: [1], open: false }));
    expect(pollNotices(v)).toEqual([]);
    v = reduce(v, poll({ mine: [1], open: false, shared: true, results: [0, 1] }));
    v = reduce(v, poll({ mine: [1], open: false, shared: true, results: [0, 1] }));
    expect(pollNotices(v)).toEqual(["poll_shared"]);
    // A newer poll takes the older one's notices with it.
    v = reduce(v, poll({ id: 2 }));
    expect(v.notices.filter((n) => n.kind === "poll_started" || n.kind === "poll_shared").map((n) => [n.kind, n.poll])).toEqual([["poll_started", 2]]);
  });

  it("tells nobody who has the poll in sight, nor the hosts, nor someone who has answered", () => {
    // The panel open: the poll is there to see.
    let v = run(joined(2, "participant", class3), { type: "local/poll_open", open: true }, poll());
    v = reduce(v, poll({ open: false, shared: true, results: [0, 0] }));
    expect(pollNotices(v)).toEqual([]);
    // Opening the panel clears what the notices said.
    v = run(joined(2, "participant", class3), poll());
    expect(pollNotices(reduce(v, { type: "local/poll_open", open: true }))).toEqual([]);
    // Hosts and co-hosts follow the poll in the panel; the one who asked knows.
    expect(pollNotices(run(joined(3, "co_host", class3), poll(), poll({ open: false, shared: true, results: [0, 0] })))).toEqual([]);
    expect(pollNotices(run(joined(1, "host", class3), poll()))).toEqual([]);
    // Back in after answering (a new seat), there is nothing to ask.
    expect(pollNotices(run(joined(2, "participant", class3), poll({ mine: [0] })))).toEqual([]);
  });
});
