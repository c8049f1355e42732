// The REST API as the UI's unit tests need it: a `fetch` that answers like samla-server for one
// user and token. The real server answers the browser tests (tests/browser); here none can run.

import type { ApiAttendee, ApiMe, ApiMeeting, NewApiMeeting } from "../protocol/rest";

export interface FakeServer {
  fetch: typeof fetch;
  /** Every request, as "METHOD url". */
  requests: string[];
  meetings: ApiMeeting[];
  /** Who attended, by meeting id; a meeting not here had no one. */
  attendance: Record<string, ApiAttendee[]>;
}

export const ME: ApiMe = { id: "u1", email: "kari@uio.no", display_name: "Kari Nordmann", admin: false, organisation: "UiO" };

export function meeting(id: string, topic: string, start: string | null, minutes: number | null = 90): ApiMeeting {
  return {
    id,
    topic,
    has_passcode: false,
    waiting_room: true,
    signed_in_only: false,
    mute_on_entry: false,
    share_policy: "everyone",
    start_time: start,
    duration_minutes: minutes,
    join_url: `http://meet.uio.no/j/${id}`,
    created_at: "2026-11-01T08:00:00Z",
  };
}

/** The attendance as samla-server writes it for `?format=csv`: a byte-order mark (for Excel),
 * quoted where needed, and a cell a spreadsheet would take for a formula prefixed with '. */
export function attendanceCsv(people: readonly ApiAttendee[]): string {
  const cell = (value: string | number | null) => {
    let text = value === null ? "" : String(value);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = people.map((p) => [p.name, p.email, p.first_joined, p.last_left, p.minutes, p.times_joined].map(cell).join(","));
  return "\ufeff" + ["name,email,first_joined,last_left,minutes,times_joined", ...lines].map((line) => `${line}\r\n`).join("");
}

/** Answers `token` as the server would, and 401 with the server's message for any other. */
export function fakeServer(token: string, meetings: ApiMeeting[] = [], attendance: Record<string, ApiAttendee[]> = {}): FakeServer {
  const server: FakeServer = {
    requests: [],
    meetings,
    attendance,
    fetch: async (input, init) => {
      const url = String(input);
      const method = init?.method ?? "GET";
      server.requests.push(`${method} ${url}`);
      const auth = new Headers(init?.headers).get("authorization");
      const json = (status: number, body: unknown) =>
        new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
      if (auth !== `Bearer ${token}`) return json(401, { error: "unauthorized", message: "unknown API token" });
      const { pathname: path, searchParams } = new URL(url);
      if (path === "/api/v1/me" && method === "GET") return json(200, ME);
      if (path === "/api/v1/meetings" && method === "GET") return json(200, server.meetings);
      if (path === "/api/v1/meetings" && method === "POST") {
        const body = JSON.parse(String(init?.body)) as NewApiMeeting;
        if (body.passcode !== undefined && body.passcode.length < 4) {
          return json(400, { error: "invalid_argument", message: "passcode must have 4 to 32 characters" });
        }
        const created = {
          ...meeting(String(5550001234 + server.meetings.length), body.topic, body.start_time ?? null, body.duration_minutes ?? null),
          waiting_room: body.waiting_room,
          has_passcode: body.passcode !== undefined,
          // The server's defaults when left out.
          mute_on_entry: body.mute_on_entry ?? false,
          share_policy: body.share_policy ?? "everyone",
        };
        server.meetings.push(created);
        return json(201, created);
      }
      const attended = /^\/api\/v1\/meetings\/(\d+)\/attendance$/.exec(path);
      if (attended && method === "GET") {
        if (!server.meetings.some((m) => m.id === attended[1])) return json(404, { error: "not_found", message: "no such meeting" });
        const people = server.attendance[attended[1]!] ?? [];
        if (searchParams.get("format") === "csv") {
          return new Response(attendanceCsv(people), { status: 200, headers: { "content-type": "text/csv; charset=utf-8" } });
        }
        return json(200, people);
      }
      const one = /^\/api\/v1\/meetings\/(\d+)$/.exec(path);
      if (one && method === "PATCH") {
        const change = JSON.parse(String(init?.body)) as Partial<NewApiMeeting>;
        const i = server.meetings.findIndex((m) => m.id === one[1]);
        if (i < 0) return json(404, { error: "not_found", message: "no such meeting" });
        const { passcode, ...rest } = change;
        server.meetings[i] = { ...server.meetings[i]!, ...rest, ...(passcode ? { has_passcode: true } : {}) };
        return json(200, server.meetings[i]);
      }
      if (one && method === "DELETE") {
        const before = server.meetings.length;
        server.meetings = server.meetings.filter((m) => m.id !== one[1]);
        return server.meetings.length < before ? new Response(null, { status: 204 }) : json(404, { error: "not_found", message: "no such meeting" });
      }
      return json(404, { error: "not_found", message: "no such route" });
    },
  };
  return server;
}
