import { describe, expect, it } from "vitest";
import { fakeServer, meeting } from "../test/fake-server";
import { ApiError, RestClient, pastMeetings, upcomingMeetings, type ApiAttendee } from "./rest";
import { hostOf } from "./server-host";

describe("the REST client", () => {
  it("calls the server the user named, whatever they pasted", async () => {
    const server = fakeServer("samla_ok");
    const client = new RestClient("https://meet.uio.no/some/page", true, "samla_ok", server.fetch);
    expect((await client.me()).email).toBe("kari@uio.no");
    expect(server.requests).toEqual(["GET https://meet.uio.no/api/v1/me"]);
    expect(hostOf(" http://127.0.0.1:7700/j/123 ")).toBe("127.0.0.1:7700");
  });

  it("hosts a meeting with the topic and waiting room asked for", async () => {
    const server = fakeServer("samla_ok");
    const created = await new RestClient("meet.uio.no", false, "samla_ok", server.fetch).createMeeting({ topic: "INF1000", waiting_room: false });
    expect([created.topic, created.waiting_room]).toEqual(["INF1000", false]);
    expect(server.requests).toEqual(["POST http://meet.uio.no/api/v1/meetings"]);
  });

  it("says the server's reason when it refuses, and that it could not reach it", async () => {
    const refused = new RestClient("meet.uio.no", true, "samla_wrong", fakeServer("samla_ok").fetch).meetings();
    await expect(refused).rejects.toEqual(new ApiError("unknown API token", 401));
    const down = new RestClient("meet.uio.no", true, "samla_ok", async () => {
      throw new TypeError("Failed to fetch");
    }).me();
    await expect(down).rejects.toMatchObject({ status: 0, message: "Failed to fetch" });
  });
});

describe("the attendance of a meeting", () => {
  const people: ApiAttendee[] = [
    { name: "Ola Nordmann", email: "ola@uio.no", first_joined: "2026-12-01T08:15:03Z", last_left: "2026-12-01T09:58:40Z", minutes: 103, times_joined: 2 },
    { name: "=Gjest, \"Per\"", email: null, first_joined: "2026-12-01T08:20:00Z", last_left: null, minutes: 40, times_joined: 1 },
  ];

  it("comes as the server's JSON, and as its CSV text as it is", async () => {
    const server = fakeServer("samla_ok", [meeting("100000041", "Seminar", "2026-12-01T08:15:00Z")], { "100000041": people });
    const client = new RestClient("meet.uio.no", true, "samla_ok", server.fetch);
    expect(await client.attendance("100000041")).toEqual(people);
    // Read as text, without the byte-order mark the server sends first.
    expect(await client.attendanceCsv("100000041")).toBe(
      "name,email,first_joined,last_left,minutes,times_joined\r\n" +
        "Ola Nordmann,ola@uio.no,2026-12-01T08:15:03Z,2026-12-01T09:58:40Z,103,2\r\n" +
        "\"'=Gjest, \"\"Per\"\"\",,2026-12-01T08:20:00Z,,40,1\r\n",
    );
    expect(server.requests).toEqual([
      "GET https://meet.uio.no/api/v1/meetings/100000041/attendance",
      "GET https://meet.uio.no/api/v1/meetings/100000041/attendance?format=csv",
    ]);
  });

  it("of a meeting not the user's is refused with the server's reason, as JSON and as CSV", async () => {
    const client = new RestClient("meet.uio.no", true, "samla_ok", fakeServer("samla_ok").fetch);
    await expect(client.attendance("100000042")).rejects.toEqual(new ApiError("no such meeting", 404));
    await expect(client.attendanceCsv("100000042")).rejects.toEqual(new ApiError("no such meeting", 404));
  });
});

describe("upcoming meetings", () => {
  it("are the scheduled ones not yet over, soonest first", () => {
    const now = new Date("2026-12-07T10:00:00Z");
    const all = [
      meeting("100000001", "Next week", "2026-12-14T08:15:00Z"),
      meeting("100000002", "Instant", null),
      meeting("100000003", "Over", "2026-12-07T08:00:00Z", 60),
      meeting("100000004", "Going on", "2026-12-07T09:15:00Z", 90),
      meeting("100000005", "Tomorrow, no length", "2026-12-08T08:15:00Z", null),
      meeting("100000006", "Just over, no length", "2026-12-07T09:00:00Z", null),
    ];
    expect(upcomingMeetings(all, now).map((m) => m.topic)).toEqual(["Going on", "Tomorrow, no length", "Next week"]);
  });
});

describe("past meetings", () => {
  const now = new Date("2026-12-07T10:00:00Z");
  const instant = (id: string, topic: string, created: string) => ({ ...meeting(id, topic, null), created_at: created });

  it("are those of the last 30 days that have ended, and instant ones, newest first", () => {
    const all = [
      meeting("100000001", "Next week", "2026-12-14T08:15:00Z"),
      meeting("100000002", "Going on", "2026-12-07T09:15:00Z", 90),
      meeting("100000003", "Yesterday's lecture", "2026-12-06T08:15:00Z", 90),
      meeting("100000004", "Just over, no length", "2026-12-07T09:00:00Z", null),
      meeting("100000005", "Ended 29 days ago", "2026-11-08T09:00:00Z", 60),
      meeting("100000006", "Ended 31 days ago", "2026-11-06T09:00:00Z", 60),
      meeting("100000007", "Not a time", "soon"),
      instant("100000008", "Instant this morning", "2026-12-07T09:30:00Z"),
      instant("100000009", "Instant on Saturday", "2026-12-05T12:00:00Z"),
      instant("100000010", "Instant in October", "2026-10-01T12:00:00Z"),
    ];
    expect(pastMeetings(all, now).map((m) => m.topic)).toEqual([
      "Instant this morning",
      "Just over, no length",
      "Yesterday's lecture",
      "Instant on Saturday",
      "Ended 29 days ago",
    ]);
  });

  it("are at most the 10 newest", () => {
    const daily = Array.from({ length: 12 }, (_, i) => meeting(String(100000100 + i), `Day ${i + 1}`, `2026-11-${String(20 + i).padStart(2, "0")}T08:00:00Z`, 60));
    expect(pastMeetings(daily, now).map((m) => m.topic)).toEqual(["Day 12", "Day 11", "Day 10", "Day 9", "Day 8", "Day 7", "Day 6", "Day 5", "Day 4", "Day 3"]);
  });
});
