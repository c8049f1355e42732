// The meeting store: a pure reducer that applies server messages (and a few local actions)
// to the view the screens draw. No I/O here; the app feeds it from the SignallingClient.

import {
  isModerator,
  type ChatMessage,
  type CloseReason,
  type ErrorCode,
  type MeetingState,
  type ParticipantId,
  type ParticipantInfo,
  type PollView,
  type Reaction,
  type RemoteTrack,
  type Role,
  type ServerMessage,
  type ServerMessageOf,
  type WaitingInfo,
} from "../protocol/messages";

export type Phase = "idle" | "waiting" | "joined" | "ended";

/** Something to tell the user once (a toast). `id` increases so the UI can dismiss it. */
export type Notice =
  | { id: number; kind: "muted_by"; by: string }
  | { id: number; kind: "unmute_requested"; by: string }
  /** `from`: the role before, so that losing the host role is not told as losing co-host. */
  | { id: number; kind: "role_changed"; role: Role; from: Role | null }
  | { id: number; kind: "participant_removed"; name: string }
  /** People who came to the waiting room (hosts and co-hosts): it stays until they are let in,
   * turned away or gone, so that nobody waits unnoticed. */
  | { id: number; kind: "someone_waiting"; who: WaitingInfo[] }
  /** Someone else raised a hand (hosts and co-hosts, who call on them or lower it). */
  | { id: number; kind: "hand_raised"; participant: ParticipantId; name: string }
  /** A chat message while the chat is closed: who wrote what (shortened), and whether to me alone. */
  | { id: number; kind: "chat_message"; from: string; text: string; private: boolean }
  /** I came in muted because the meeting mutes people who join; `mayUnmute`: whether I may turn
   * the microphone on myself (if not, a raised hand asks to speak). */
  | { id: number; kind: "muted_on_entry"; mayUnmute: boolean }
  /** A host put someone (`you`: me) in the spotlight. */
  | { id: number; kind: "spotlight"; participant: ParticipantId; name: string; you: boolean }
  /** A host put a question to the class (told to participants, with a way to answer). */
  | { id: number; kind: "poll_started"; poll: number; name: string }
  /** A host shared how the class answered a poll. */
  | { id: number; kind: "poll_shared"; poll: number }
  | { id: number; kind: LocalNoticeKind }
  | { id: number; kind: "error"; code: ErrorCode; message: string };

/** Notices the meeting screen raises itself, when the meeting's settings refuse what I pressed:
 * Unmute while the host has not let participants unmute themselves, Share while only hosts may
 * share, and a share the host's new setting stopped. */
export type LocalNoticeKind = "unmute_not_allowed" | "share_not_allowed" | "share_stopped";

export interface ShownReaction {
  id: number;
  participant: ParticipantId;
  reaction: Reaction;
}

export interface MeetingView {
  phase: Phase;
  me: ParticipantId | null;
  role: Role | null;
  meeting: MeetingState | null;
  /** In join order. */
  participants: ParticipantInfo[];
  /** The waiting room (hosts and co-hosts only). */
  waiting: WaitingInfo[];
  chat: ChatMessage[];
  unread: number;
  chatOpen: boolean;
  /** The meeting's poll as I may see it: the latest one, open or ended; null before the first. */
  poll: PollView | null;
  /** The poll panel is open: what its notices would say is in sight already. */
  pollOpen: boolean;
  activeSpeaker: ParticipantId | null;
  remoteTracks: RemoteTrack[];
  reactions: ShownReaction[];
  notices: Notice[];
  closedReason: CloseReason | null;
  /** A join refusal (passcode_required, wrong_passcode, meeting_locked, …) before being seated. */
  joinError: ErrorCode | null;
  nextId: number;
}

export type LocalAction =
  | { type: "local/chat_open"; open: boolean }
  | { type: "local/poll_open"; open: boolean }
  | { type: "local/dismiss_notice"; id: number }
  | { type: "local/notice"; kind: LocalNoticeKind }
  | { type: "local/reaction_done"; id: number }
  | { type: "local/joining" }
  | { type: "local/left" }
  | { type: "local/connection_lost" }
  | { type: "local/reset" };

export type StoreAction = ServerMessage | LocalAction;

export const initialView: MeetingView = {
  phase: "idle",
  me: null,
  role: null,
  meeting: null,
  participants: [],
  waiting: [],
  chat: [],
  unread: 0,
  chatOpen: false,
  poll: null,
  pollOpen: false,
  activeSpeaker: null,
  remoteTracks: [],
  reactions: [],
  notices: [],
  closedReason: null,
  joinError: null,
  nextId: 1,
};

/** At most this many toasts are kept; older ones fall off. */
const MAX_NOTICES = 5;
/** How much of a chat message its notice shows. */
const CHAT_PREVIEW_CHARS = 100;
const MAX_REACTIONS = 30;

function notice(view: MeetingView, n: DistributiveOmit<Notice, "id">): MeetingView {
  const notices = [...view.notices, { ...n, id: view.nextId } as Notice].slice(-MAX_NOTICES);
  return { ...view, notices, nextId: view.nextId + 1 };
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export function nameOf(view: MeetingView, id: ParticipantId): string {
  return view.participants.find((p) => p.id === id)?.name ?? view.waiting.find((w) => w.id === id)?.name ?? "…";
}

export function reduce(view: MeetingView, action: StoreAction): MeetingView {
  switch (action.type) {
    // ---- local ----
    case "local/chat_open":
      return action.open
        ? // The chat itself now shows what the chat notices said.
          { ...view, chatOpen: true, unread: 0, notices: view.notices.filter((n) => n.kind !== "chat_message") }
        : { ...view, chatOpen: false };
    case "local/poll_open":
      return action.open
        ? { ...view, pollOpen: true, notices: view.notices.filter((n) => n.kind !== "poll_started" && n.kind !== "poll_shared") }
        : { ...view, pollOpen: false };
    case "local/dismiss_notice":
      return { ...view, notices: view.notices.filter((n) => n.id !== action.id) };
    case "local/notice":
      // Pressing M again and again tells it once, afresh, rather than filling the list.
      return notice({ ...view, notices: view.notices.filter((n) => n.kind !== action.kind) }, { kind: action.kind });
    case "local/reaction_done":
      return { ...view, reactions: view.reactions.filter((r) => r.id !== action.id) };
    case "local/joining":
      return { ...view, joinError: null };
    case "local/left":
      return { ...view, phase: "ended", closedReason: "left", remoteTracks: [], activeSpeaker: null };
    case "local/connection_lost":
      return { ...view, phase: "ended", closedReason: null, remoteTracks: [], activeSpeaker: null };
    case "local/reset":
      return initialView;

    // ---- server ----
    case "error":
      if (view.phase === "idle" || view.phase === "ended") return { ...view, joinError: action.code };
      return notice(view, { kind: "error", code: action.code, message: action.message });
    case "waiting":
      return {
        ...initialView,
        nextId: view.nextId,
        phase: "waiting",
        me: action.you,
        role: "participant",
        meeting: action.meeting,
      };
    case "moved_to_waiting_room":
      return {
        ...view,
        phase: "waiting",
        role: "participant",
        participants: [],
        waiting: [],
        remoteTracks: [],
        activeSpeaker: null,
        reactions: [],
        // Out of the meeting, out of its poll; the server sends it again on the way back in.
        poll: null,
      };
    case "joined": {
      const resumed = view.phase === "joined" && view.me === action.you;
      const next: MeetingView = {
        ...view,
        phase: "joined",
        me: action.you,
        role: action.role,
        meeting: action.meeting,
        participants: action.participants,
        waiting: action.waiting,
        chat: action.chat,
        // History on a fresh join counts as read; after a resume, what arrived meanwhile does not.
        unread: resumed && !view.chatOpen ? view.unread + countNew(view.chat, action.chat, action.you) : 0,
        closedReason: null,
        joinError: null,
        remoteTracks: resumed ? view.remoteTracks : [],
        // The server follows `joined` with the poll, if there is one.
        poll: resumed ? view.poll : null,
      };
      // Coming in muted by the meeting's settings, the user is told why (a resume is no entry).
      if (resumed || !mutedOnEntry(action)) return next;
      const mayUnmute = action.participants.find((p) => p.id === action.you)?.may_unmute ?? true;
      return action.meeting.mute_on_entry
        ? notice(next, { kind: "muted_on_entry", mayUnmute })
        : notice(next, { kind: "unmute_not_allowed" });
    }
    case "participant_joined":
    case "participant_updated": {
      const p = action.participant;
      const i = view.participants.findIndex((x) => x.id === p.id);
      const participants = i < 0 ? [...view.participants, p] : view.participants.map((x) => (x.id === p.id ? p : x));
      let next: MeetingView = { ...view, participants, waiting: view.waiting.filter((w) => w.id !== p.id) };
      const raised = p.hand_raised && !(i >= 0 && view.participants[i]!.hand_raised);
      if (raised && p.id !== view.me && isModerator(view.role)) {
        next = notice(next, { kind: "hand_raised", participant: p.id, name: p.name });
      }
      if (p.id === view.me && p.may_unmute) {
        // Allowed now (a host asked me to unmute): "not allowed" no longer holds.
        next = { ...next, notices: next.notices.filter((n) => n.kind !== "unmute_not_allowed") };
      }
      if (p.id === view.me && p.role !== view.role) {
        next = notice({ ...next, role: p.role, waiting: isModerator(p.role) ? next.waiting : [] }, { kind: "role_changed", role: p.role, from: view.role });
      }
      return next;
    }
    case "participant_left": {
      const name = nameOf(view, action.participant);
      let next: MeetingView = {
        ...view,
        participants: view.participants.filter((p) => p.id !== action.participant),
        remoteTracks: view.remoteTracks.filter((t) => t.participant !== action.participant),
        activeSpeaker: view.activeSpeaker === action.participant ? null : view.activeSpeaker,
      };
      if (action.reason === "removed") next = notice(next, { kind: "participant_removed", name });
      return next;
    }
    case "waiting_room": {
      const still = (w: WaitingInfo) => action.waiting.some((x) => x.id === w.id);
      // A waiting notice tells only of those still waiting, and goes when none are.
      const notices = view.notices.flatMap((n): Notice[] => {
        if (n.kind !== "someone_waiting") return [n];
        const who = n.who.filter(still);
        return who.length ? [{ ...n, who }] : [];
      });
      const newcomers = action.waiting.filter((w) => !view.waiting.some((x) => x.id === w.id));
      const next: MeetingView = { ...view, waiting: action.waiting, notices };
      return newcomers.length && isModerator(view.role) ? notice(next, { kind: "someone_waiting", who: newcomers }) : next;
    }
    case "meeting_updated": {
      const next = { ...view, meeting: action.meeting };
      const spotlight = action.meeting.spotlight;
      if (spotlight === null || spotlight === view.meeting?.spotlight) return next;
      // Everyone is told who is now everyone's main picture; the person themselves, that it is them.
      const name = view.participants.find((p) => p.id === spotlight)?.name ?? "";
      return notice(next, { kind: "spotlight", participant: spotlight, name, you: spotlight === view.me });
    }
    case "chat": {
      if (view.chat.some((m) => m.seq === action.message.seq)) return view;
      const mine = action.message.from === view.me;
      const next = {
        ...view,
        chat: [...view.chat, action.message],
        unread: view.chatOpen || mine ? view.unread : view.unread + 1,
      };
      if (view.chatOpen || mine) return next;
      // A question in the chat is seen even while the chat is closed (a screen shared, say).
      const text = action.message.text.length > CHAT_PREVIEW_CHARS ? `${action.message.text.slice(0, CHAT_PREVIEW_CHARS)}…` : action.message.text;
      return notice(next, { kind: "chat_message", from: action.message.from_name, text, private: action.message.to.kind !== "everyone" });
    }
    case "muted_by":
      return notice(view, { kind: "muted_by", by: nameOf(view, action.by) });
    case "unmute_requested":
      return notice(view, { kind: "unmute_requested", by: nameOf(view, action.by) });
    case "poll":
      return applyPoll(view, action.poll);
    case "reaction": {
      const reactions = [...view.reactions, { id: view.nextId, participant: action.participant, reaction: action.reaction }];
      return { ...view, reactions: reactions.slice(-MAX_REACTIONS), nextId: view.nextId + 1 };
    }
    case "closed":
      return { ...view, phase: "ended", closedReason: action.reason, remoteTracks: [], activeSpeaker: null, waiting: [] };
    case "media_tracks":
      return { ...view, remoteTracks: action.tracks };
    case "active_speaker":
      return { ...view, activeSpeaker: action.participant };
    case "welcome":
    case "media_config":
    case "media_answer":
    case "media_offer":
    case "media_layers":
      return view;
  }
}

/** Takes the server's word on the poll: a newer poll replaces the one shown, and a word about an
 * older one (sent before it was replaced) is dropped. Participants are told when a host starts a
 * poll they have not answered, and when the results are shared, unless the poll panel is open. */
function applyPoll(view: MeetingView, poll: PollView): MeetingView {
  const known = view.poll;
  if (known && poll.id < known.id) return view;
  const fresh = !known || known.id !== poll.id;
  // Notices about an older poll go, and so does "Answer" once the poll takes no answers.
  const notices = view.notices.filter(
    (n) => (n.kind !== "poll_started" && n.kind !== "poll_shared") || (n.poll === poll.id && (n.kind !== "poll_started" || poll.open)),
  );
  let next: MeetingView = { ...view, poll, notices };
  const tell = !isModerator(view.role) && poll.by !== view.me && !view.pollOpen;
  if (tell && fresh && poll.open && poll.mine.length === 0) {
    next = notice(next, { kind: "poll_started", poll: poll.id, name: nameOf(view, poll.by) });
  } else if (tell && !fresh && poll.shared && !known.shared) {
    next = notice(next, { kind: "poll_shared", poll: poll.id });
  }
  return next;
}

function countNew(before: ChatMessage[], after: ChatMessage[], me: ParticipantId): number {
  const last = before.length ? before[before.length - 1]!.seq : -1;
  return after.filter((m) => m.seq > last && m.from !== me).length;
}

// ---- selectors ------------------------------------------------------------------------------

export function me(view: MeetingView): ParticipantInfo | undefined {
  return view.participants.find((p) => p.id === view.me);
}

export function amModerator(view: MeetingView): boolean {
  return isModerator(view.role);
}

export function amHost(view: MeetingView): boolean {
  return view.role === "host";
}

/** Whether the microphone starts off on this entry whatever was chosen before joining: the
 * meeting mutes people who join, or does not let me unmute myself (hosts and co-hosts are
 * never muted so). */
export function mutedOnEntry(joined: ServerMessageOf<"joined">): boolean {
  if (isModerator(joined.role)) return false;
  const mine = joined.participants.find((p) => p.id === joined.you);
  return joined.meeting.mute_on_entry || mine?.may_unmute === false;
}

/** Whether I may turn my microphone on (the server keeps it off otherwise). */
export function mayUnmute(view: MeetingView): boolean {
  return amModerator(view) || (me(view)?.may_unmute ?? true);
}

/** Whether I may share a screen or a window under the meeting's share policy. */
export function mayShare(view: MeetingView): boolean {
  return amModerator(view) || view.meeting?.share_policy !== "hosts_only";
}

/** How a chat message is labelled: public, to the hosts, or private (and between whom). */
export type ChatAudience =
  | { kind: "everyone" }
  | { kind: "hosts" }
  | { kind: "private_to_me"; from: string }
  | { kind: "private_from_me"; to: string }
  | { kind: "private_other"; from: string; to: string };

export function chatAudience(view: MeetingView, msg: ChatMessage): ChatAudience {
  switch (msg.to.kind) {
    case "everyone":
      return { kind: "everyone" };
    case "hosts":
      return { kind: "hosts" };
    case "participant": {
      if (msg.from === view.me) return { kind: "private_from_me", to: nameOf(view, msg.to.id) };
      if (msg.to.id === view.me) return { kind: "private_to_me", from: msg.from_name };
      return { kind: "private_other", from: msg.from_name, to: nameOf(view, msg.to.id) };
    }
  }
}

/** Whether I may write to `to` under the meeting's chat policy. */
export function canChat(view: MeetingView, to: "everyone" | "hosts" | "participant"): boolean {
  const policy = view.meeting?.chat_policy ?? "everyone";
  if (amModerator(view) || policy === "everyone") return true;
  if (policy === "off") return false;
  return to === "hosts";
}
