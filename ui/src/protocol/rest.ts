// The server's REST API under /api/v1 (crates/samla-protocol/src/api.rs), as far as the UI
// uses it: who the token belongs to, the user's meetings, hosting one, and who attended one. Every call sends
// the user's API token as a bearer token; the server answers other origins (the desktop app's
// page) too, so the same code runs in the app and in a browser.

import type { SharePolicy } from "./messages";
import { hostOf } from "./server-host";

/** A meeting as its owner sees it (samla_protocol::api::Meeting). */
export interface ApiMeeting {
  id: string;
  topic: string;
  has_passcode: boolean;
  waiting_room: boolean;
  signed_in_only: boolean;
  /** The rules the meeting starts with each time it starts afresh; the hosts can change them
   * in the meeting (ParticipantsPanel), but that lasts only until it ends. */
  mute_on_entry: boolean;
  share_policy: SharePolicy;
  /** RFC 3339, or null for an instant meeting. */
  start_time: string | null;
  duration_minutes: number | null;
  join_url: string;
  created_at: string;
}

/** The signed-in user (samla_protocol::api::Me). */
export interface ApiMe {
  id: string;
  email: string;
  display_name: string;
  admin: boolean;
  organisation: string;
}

/** One person who was in a meeting (samla_protocol::api::Attendee): not those who only waited
 * in the waiting room or were turned away. */
export interface ApiAttendee {
  /** The name they last used in the meeting. */
  name: string;
  /** A signed-in person's e-mail; null for a guest. */
  email: string | null;
  /** RFC 3339. */
  first_joined: string;
  /** RFC 3339, or null while they are still in the meeting. */
  last_left: string | null;
  /** Whole minutes in the meeting over all their visits, rounded. */
  minutes: number;
  times_joined: number;
}

export interface NewApiMeeting {
  topic: string;
  waiting_room: boolean;
  /** RFC 3339 in UTC; left out for a meeting that starts now. */
  start_time?: string;
  duration_minutes?: number;
  /** 4 to 32 characters; left out for none. */
  passcode?: string;
  /** Left out: false (and in a change: as it is). */
  mute_on_entry?: boolean;
  /** Left out: "everyone" (and in a change: as it is). */
  share_policy?: SharePolicy;
}

/** A refusal or failure, with the server's own message when it sent one. */
export class ApiError extends Error {
  constructor(
    message: string,
    /** The HTTP status, or 0 when the server could not be reached. */
    readonly status: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The API of one server, for one user. */
export class RestClient {
  private readonly base: string;

  constructor(
    /** "meet.uio.no" or "127.0.0.1:7700"; a scheme or path given along is ignored. */
    serverHost: string,
    secure: boolean,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {
    this.base = `${secure ? "https" : "http"}://${hostOf(serverHost)}/api/v1`;
  }

  me(): Promise<ApiMe> {
    return this.call("GET", "/me");
  }

  /** The meetings the user owns, scheduled ones first by start time. */
  meetings(): Promise<ApiMeeting[]> {
    return this.call("GET", "/meetings");
  }

  createMeeting(meeting: NewApiMeeting): Promise<ApiMeeting> {
    return this.call("POST", "/meetings", meeting);
  }

  /** Changes one of the user's meetings; fields left out stay as they are. */
  updateMeeting(id: string, change: Partial<NewApiMeeting>): Promise<ApiMeeting> {
    return this.call("PATCH", `/meetings/${encodeURIComponent(id)}`, change);
  }

  /** Deletes one of the user's meetings; its link stops working. */
  async deleteMeeting(id: string): Promise<void> {
    await this.call<null>("DELETE", `/meetings/${encodeURIComponent(id)}`);
  }

  /** Who was in one of the user's meetings, by when they first joined. */
  attendance(id: string): Promise<ApiAttendee[]> {
    return this.call("GET", `/meetings/${encodeURIComponent(id)}/attendance`);
  }

  /** The same attendance as the server's CSV (a header line, then one line per person), to
   * save as a file or paste into a spreadsheet as it is. */
  /** The attendance CSV's text. Reading it as text drops the byte-order mark the server sends
   * (for Excel); whoever saves it as a file puts one back. */
  async attendanceCsv(id: string): Promise<string> {
    const res = await this.send("GET", `/meetings/${encodeURIComponent(id)}/attendance?format=csv`);
    return res.text();
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    // 204 No Content (a deletion) has no body to read.
    return (res.status === 204 ? null : await res.json()) as T;
  }

  /** Sends one request; a refusal or failure becomes an {@link ApiError}. */
  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(err instanceof Error ? err.message : String(err), 0);
    }
    if (!res.ok) {
      const reply = (await res.json().catch(() => null)) as { message?: string } | null;
      throw new ApiError(reply?.message ?? `HTTP ${res.status}`, res.status);
    }
    return res;
  }
}

/** The scheduled meetings that have not ended yet at `now`, soonest first. A meeting without a
 * length counts as an hour long. */
export function upcomingMeetings(meetings: readonly ApiMeeting[], now: Date): ApiMeeting[] {
  const ends = (m: ApiMeeting) => Date.parse(m.start_time!) + (m.duration_minutes ?? 60) * 60_000;
  return meetings
    .filter((m) => m.start_time !== null && !Number.isNaN(Date.parse(m.start_time)) && ends(m) > now.getTime())
    .sort((a, b) => Date.parse(a.start_time!) - Date.parse(b.start_time!));
}

/** How far back the past meetings go. */
const PAST_DAYS = 30;
/** How many past meetings are listed at most. */
const PAST_MAX = 10;

/** When a meeting is said to have been: a scheduled one's start, an instant one's creation. */
export function meetingTime(m: ApiMeeting): number {
  return Date.parse(m.start_time ?? m.created_at);
}

/** The meetings of the last 30 days at `now`, newest first and at most 10, for their attendance:
 * scheduled ones that have ended (a meeting without a length counts as an hour long, as in
 * {@link upcomingMeetings}), and instant ones created in that time (they have no end). */
export function pastMeetings(meetings: readonly ApiMeeting[], now: Date): ApiMeeting[] {
  const at = now.getTime();
  const since = at - PAST_DAYS * 86_400_000;
  const past = (m: ApiMeeting) => {
    const time = meetingTime(m);
    if (Number.isNaN(time)) return false;
    if (m.start_time === null) return time > since;
    const ends = time + (m.duration_minutes ?? 60) * 60_000;
    return ends <= at && ends > since;
  };
  return meetings
    .filter(past)
    .sort((a, b) => meetingTime(b) - meetingTime(a))
    .slice(0, PAST_MAX);
}
