import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { I18nContext, translator, type Lang } from "../i18n";
import { RestClient, type ApiAttendee, type ApiMeeting } from "../protocol/rest";
import { root, until, useDomRoot } from "../test/dom-root";
import { ME, fakeServer, meeting } from "../test/fake-server";
import { Home, type HomeProps } from "./Home";
import { PastMeetings } from "./PastMeetings";

useDomRoot();

const TOKEN = "samla_ok";

/** Home for a user signed in to a fake server; the server and every request's bearer token. */
function signedInHome(lang: Lang, meetings: ApiMeeting[], attendance: Record<string, ApiAttendee[]> = {}) {
  const server = fakeServer(TOKEN, meetings, attendance);
  const bearers: string[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    bearers.push(new Headers(init?.headers).get("authorization") ?? "");
    return server.fetch(input, init);
  };
  const client = new RestClient("meet.uio.no", true, TOKEN, fetch);
  const props: HomeProps = {
    serverHost: "meet.uio.no",
    account: { status: "signed_in", me: ME, client, token: TOKEN },
    onJoin: () => {},
    onHost: async () => {},
    onStart: () => {},
    onSettings: () => {},
  };
  act(() => {
    render(
      <I18nContext.Provider value={{ lang, t: translator(lang) }}>
        <Home {...props} />
      </I18nContext.Provider>,
      root,
    );
  });
  return { server, bearers };
}

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
const pastTopics = () => [...root.querySelectorAll(".past li strong")].map((s) => s.textContent);
const press = (label: string) =>
  act(async () => {
    const button = root.querySelector<HTMLButtonElement>(`button[aria-label="${label}"]`);
    if (!button) throw new Error(`no button "${label}"`);
    button.click();
  });
const cells = () =>
  [...root.querySelectorAll(".attendance tbody tr")].map((tr) => [...tr.querySelectorAll("th, td")].map((c) => c.textContent));

/** On the user's own clock, as the table shows it. */
const at = (hour: number, minute: number, second = 0) => new Date(2026, 11, 1, hour, minute, second).toISOString();
const SEMINAR = "100000041";
const PEOPLE: ApiAttendee[] = [
  { name: "Ola Nordmann", email: "ola@uio.no", first_joined: at(8, 15, 3), last_left: at(9, 58, 40), minutes: 103, times_joined: 2 },
  { name: "Per (gjest)", email: null, first_joined: at(8, 20), last_left: null, minutes: 40, times_joined: 1 },
];
const seminar = () => meeting(SEMINAR, "Seminar 3", minutesAgo(3 * 60), 90);

describe("past meetings on Home", () => {
  it("lists the last 30 days' meetings that are over, and instant ones, newest first", async () => {
    const { server } = signedInHome("nb", [
      meeting("100000001", "Seminar 1", minutesAgo(3 * 24 * 60), 90),
      meeting("100000002", "Seminar 2", minutesAgo(24 * 60), 90),
      meeting("100000003", "Kontortid", minutesAgo(30), 60),
      meeting("100000004", "Neste uke", minutesAgo(-7 * 24 * 60), 90),
      meeting("100000005", "I fjor høst", minutesAgo(40 * 24 * 60), 90),
      { ...meeting("100000006", "Straksmøte", null), created_at: minutesAgo(3 * 60) },
    ]);
    await until("the past meetings listed", () => root.querySelectorAll(".past li").length > 0);
    expect(root.querySelector(".past h2")?.textContent).toBe("Tidligere møter");
    expect(pastTopics()).toEqual(["Straksmøte", "Seminar 2", "Seminar 1"]);
    expect([...root.querySelectorAll(".upcoming li strong")].map((s) => s.textContent)).toEqual(["Kontortid", "Neste uke"]);
    expect(root.querySelector('.past button[aria-label="Oppmøte på «Seminar 2»"]')?.textContent).toBe("Oppmøte");
    // Both lists come from one request.
    expect(server.requests.filter((r) => r === "GET https://meet.uio.no/api/v1/meetings")).toHaveLength(1);
  });

  it("says when there are none", async () => {
    signedInHome("nn", [meeting("100000001", "Neste veke", minutesAgo(-24 * 60))]);
    await until("the empty list said", () => root.querySelector(".past")?.textContent?.includes("Du har ingen møte frå dei siste 30 dagane.") ?? false);
  });
});

describe("past meetings: when", () => {
  it("say the day and time in the page's language", async () => {
    const now = new Date(2026, 11, 7, 9, 0); // Monday 7 December, 09:00 on the user's clock
    const meetings = [
      meeting("100000011", "A", new Date(2026, 11, 6, 8, 15).toISOString(), 90),
      meeting("100000012", "B", new Date(2026, 11, 4, 12, 15).toISOString(), 90),
    ];
    const whens = async (lang: Lang) => {
      act(() => {
        render(
          <I18nContext.Provider value={{ lang, t: translator(lang) }}>
            <PastMeetings load={async () => meetings} attendance={async () => []} attendanceCsv={async () => ""} now={() => now} />
          </I18nContext.Provider>,
          root,
        );
      });
      await until("the meetings listed", () => root.querySelectorAll(".past time").length === 2);
      return [...root.querySelectorAll(".past time")].map((el) => el.textContent);
    };
    expect(await whens("nb")).toEqual(["I går 08:15", "Fredag 4. desember 12:15"]);
    act(() => render(null, root));
    expect(await whens("en")).toEqual(["Yesterday 08:15", "Friday 4 December 12:15"]);
  });
});

describe("a past meeting's attendance", () => {
  it("is fetched with the user's token and shown as a table, guests and those still in said so", async () => {
    const { server, bearers } = signedInHome("en", [seminar()], { [SEMINAR]: PEOPLE });
    await until("the seminar listed", () => pastTopics().length === 1);
    const toggle = root.querySelector<HTMLButtonElement>('button[aria-label="Attendance at “Seminar 3”"]')!;
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    await press("Attendance at “Seminar 3”");
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    await until("the attendance shown", () => cells().length === 2);
    const i = server.requests.indexOf(`GET https://meet.uio.no/api/v1/meetings/${SEMINAR}/attendance`);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(bearers[i]).toBe(`Bearer ${TOKEN}`);

    const table = root.querySelector(".past li table")!;
    expect(table.querySelector("caption")?.textContent).toBe("Attendance at “Seminar 3”");
    expect([...table.querySelectorAll('thead th[scope="col"]')].map((th) => th.textContent)).toEqual([
      "Name",
      "E-mail",
      "First joined",
      "Left",
      "Minutes",
      "Visits",
    ]);
    expect(cells()).toEqual([
      ["Ola Nordmann", "ola@uio.no", "08:15", "09:58", "103", "2"],
      ["Per (gjest)", "guest", "08:20", "still in the meeting", "40", "1"],
    ]);

    // Closed: gone, and the keyboard is back on the button that opened it.
    await press("Close the attendance at “Seminar 3”");
    expect(root.querySelector(".attendance")).toBeNull();
    expect(document.activeElement).toBe(toggle);
  });

  it("says when no one attended, in the page's language", async () => {
    signedInHome("nn", [seminar()]);
    await until("the seminar listed", () => pastTopics().length === 1);
    await press("Oppmøte på «Seminar 3»");
    await until("the empty attendance said", () => root.querySelector(".attendance")?.textContent?.includes("Ingen var med.") ?? false);
    expect(root.querySelector(".attendance table")).toBeNull();
  });

  it("says the server's reason when it refuses", async () => {
    const { server } = signedInHome("en", [seminar()], { [SEMINAR]: PEOPLE });
    await until("the seminar listed", () => pastTopics().length === 1);
    server.meetings = []; // Deleted in another window meanwhile.
    await press("Attendance at “Seminar 3”");
    await until("the refusal said", () => root.querySelector(".attendance [role=alert]")?.textContent === "Could not fetch the attendance: no such meeting");
    expect(root.querySelector(".attendance table")).toBeNull();
    expect(root.querySelector('button[aria-label^="Download CSV"]')).toBeNull();
  });

  describe("as CSV", () => {
    /** What samla-server sends for PEOPLE, byte for byte (after the byte-order mark). */
    const CSV =
      "name,email,first_joined,last_left,minutes,times_joined\r\n" +
      `Ola Nordmann,ola@uio.no,${PEOPLE[0]!.first_joined},${PEOPLE[0]!.last_left},103,2\r\n` +
      `Per (gjest),,${PEOPLE[1]!.first_joined},,40,1\r\n`;

    const createObjectURL = URL.createObjectURL;
    const revokeObjectURL = URL.revokeObjectURL;
    afterEach(() => {
      URL.createObjectURL = createObjectURL;
      URL.revokeObjectURL = revokeObjectURL;
      vi.restoreAllMocks();
    });

    let server: ReturnType<typeof fakeServer>;
    beforeEach(async () => {
      server = signedInHome("nb", [seminar()], { [SEMINAR]: PEOPLE }).server;
      await until("the seminar listed", () => pastTopics().length === 1);
      await press("Oppmøte på «Seminar 3»");
      await until("the attendance shown", () => cells().length === 2);
    });

    it("is downloaded as attendance-{id}.csv, the server's CSV as it is", async () => {
      const blobs: Blob[] = [];
      URL.createObjectURL = vi.fn((blob: Blob) => {
        blobs.push(blob);
        return "blob:http://meet.uio.no/attendance";
      });
      URL.revokeObjectURL = vi.fn();
      const saved: { name: string; href: string; inPage: boolean }[] = [];
      vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
        saved.push({ name: this.download, href: this.href, inPage: document.body.contains(this) });
      });

      const button = root.querySelector<HTMLButtonElement>('button[aria-label="Last ned CSV med oppmøtet på «Seminar 3»"]')!;
      expect(button.textContent).toBe("Last ned CSV");
      await press("Last ned CSV med oppmøtet på «Seminar 3»");
      expect(server.requests).toContain(`GET https://meet.uio.no/api/v1/meetings/${SEMINAR}/attendance?format=csv`);
      expect(saved).toEqual([{ name: `attendance-${SEMINAR}.csv`, href: "blob:http://meet.uio.no/attendance", inPage: true }]);
      expect(blobs).toHaveLength(1);
      expect(blobs[0]!.type).toBe("text/csv;charset=utf-8");
      // With its byte-order mark, so that Excel reads æøå right.
      expect(new Uint8Array(await blobs[0]!.arrayBuffer()).subarray(0, 3)).toEqual(new Uint8Array([0xef, 0xbb, 0xbf]));
      expect((await blobs[0]!.text()).replace(/^\ufeff/, "")).toBe(CSV);
      // The link was only there for the click.
      expect(document.querySelector("a[download]")).toBeNull();
    });

    it("is copied to the clipboard as it is, and said so", async () => {
      const writeText = vi.fn(async (_: string) => {});
      Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
      const button = root.querySelector<HTMLButtonElement>('button[aria-label="Kopier som CSV: oppmøtet på «Seminar 3»"]')!;
      expect(button.textContent).toBe("Kopier som CSV");
      await press("Kopier som CSV: oppmøtet på «Seminar 3»");
      expect(writeText).toHaveBeenCalledWith(CSV);
      await until("the copy said", () => root.querySelector(".attendance [role=status]")?.textContent === "CSV-en er kopiert.");
    });
  });
});
