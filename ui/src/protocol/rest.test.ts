import { describe, expect, it } from "vitest";
import { fakeServer, meeting } from "../test/fake-server";
import { ApiError, RestClient, upcomingMeetings } from "./rest";
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
