// The REST API as the UI's unit tests need it: a `fetch` that answers like samla-server for one
// user and token. The real server answers the browser tests (tests/browser); here none can run.

import type { ApiMe, ApiMeeting, NewApiMeeting } from "../protocol/rest";

export interface FakeServer {
  fetch: typeof fetch;
  /** Every request, as "METHOD url". */
  requests: string[];
  meetings: ApiMeeting[];
}

export const ME: ApiMe = { id: "u1", email: "kari@uio.no", display_name: "Kari Nordmann", admin: false, organisation: "UiO" };

export function meeting(id: string, topic: string, start: string | null, minutes: number | null = 90): ApiMeeting {
  return {
    id,
    topic,
    has_passcode: false,
    waiting_room: true,
    signed_in_only: false,
    start_time: start,
    duration_minutes: minutes,
    join_url: `http://meet.uio.no/j/${id}`,
    created_at: "2026-11-01T08:00:00Z",
  };
}

/** Answers `token` as the server would, and 401 with the server's message for any other. */
export function fakeServer(token: string, meetings: ApiMeeting[] = []): FakeServer {
  const server: FakeServer = {
    requests: [],
    meetings,
    fetch: async (input, init) => {
      const url = String(input);
      const method = init?.method ?? "GET";
      server.requests.push(`${method} ${url}`);
      const auth = new Headers(init?.headers).get("authorization");
      const json = (status: number, body: unknown) =>
        new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
      if (auth !== `Bearer ${token}`) return json(401, { error: "unauthorized", message: "unknown API token" });
      const path = new URL(url).pathname;
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
        };
        server.meetings.push(created);
        return json(201, created);
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
