import { render } from "preact";
import { act } from "preact/test-utils";
import { describe, expect, it, vi } from "vitest";
import { I18nContext, translator, type Lang } from "../i18n";
import { RestClient } from "../protocol/rest";
import { ME, fakeServer, meeting } from "../test/fake-server";
import { Home, type HomeProps } from "./Home";
import { UpcomingMeetings } from "./UpcomingMeetings";
import { root, until, useDomRoot } from "../test/dom-root";

useDomRoot();

function mount(lang: Lang, props: Partial<HomeProps>) {
  const all: HomeProps = {
    serverHost: "",
    onServerHost: () => {},
    account: { status: "signed_out" },
    onJoin: () => {},
    onHost: async () => {},
    onStart: () => {},
    onSettings: () => {},
    ...props,
  };
  act(() => {
    render(
      <I18nContext.Provider value={{ lang, t: translator(lang) }}>
        <Home {...all} />
      </I18nContext.Provider>,
      root,
    );
  });
}

const hostHereButton = () => root.querySelector<HTMLButtonElement>(".host-here button");

describe("Home: hosting on this computer (desktop app)", () => {
  it("is not offered in a browser, nor when a server is chosen", () => {
    mount("nb", {});
    expect(hostHereButton()).toBeNull();
    mount("nb", { serverHost: "meet.uio.no", onHostHere: async () => {} });
    expect(hostHereButton()).toBeNull();
  });

  it("hosts when clicked, and says why when it could not", async () => {
    const onHostHere = vi.fn().mockRejectedValueOnce(new Error("port 7700 is taken")).mockResolvedValueOnce(undefined);
    mount("en", { onHostHere });
    const button = hostHereButton();
    expect(button?.textContent).toBe("Host a meeting on this computer");
    await act(async () => button!.click());
    expect(onHostHere).toHaveBeenCalledTimes(1);
    expect(root.querySelector(".host-here [role=status]")?.textContent).toContain("port 7700 is taken");
    await act(async () => button!.click());
    expect(onHostHere).toHaveBeenCalledTimes(2);
    expect(root.querySelector(".host-here [role=status]")?.textContent).toBe("");
  });
});

const button = (label: string) => [...root.querySelectorAll("button")].find((b) => b.textContent === label);
const text = () => root.textContent ?? "";

describe("Home: the server", () => {
  it("is picked in the app, and not on a page its server serves", () => {
    mount("en", { serverHost: "" });
    expect(root.querySelector("#server-host")).not.toBeNull();
    mount("en", { serverHost: "meet.uio.no", onServerHost: undefined });
    expect(root.querySelector("#server-host")).toBeNull();
  });
});

describe("Home: hosting on a server", () => {
  it("asks a signed-out user to sign in under Settings, and opens them", async () => {
    const onSettings = vi.fn();
    mount("nb", { serverHost: "meet.uio.no", onSettings });
    expect(root.querySelector("#topic")).toBeNull();
    expect(text()).toContain("Logg inn under Innstillinger for å starte møter");
    await act(async () => root.querySelector<HTMLButtonElement>(".sign-in-hint button")!.click());
    expect(onSettings).toHaveBeenCalledTimes(1);
  });

  it("lists a signed-in user's upcoming meetings, and starts the one picked", async () => {
    const now = Date.now();
    const iso = (minutesFromNow: number) => new Date(now + minutesFromNow * 60_000).toISOString();
    const server = fakeServer("samla_ok", [
      meeting("100000001", "INF1000 forelesning", iso(24 * 60)),
      meeting("100000002", "Kontortid", iso(-30), 60),
      meeting("100000003", "Ferdig", iso(-120), 60),
      meeting("100000004", "Straksmøte", null),
    ]);
    const client = new RestClient("meet.uio.no", true, "samla_ok", server.fetch);
    const onStart = vi.fn();
    const onHost = vi.fn(async () => {});
    mount("en", { serverHost: "meet.uio.no", account: { status: "signed_in", me: ME, client, token: "samla_ok" }, onStart, onHost });
    expect(text()).toContain("Signed in as Kari Nordmann");
    await until("the meetings listed", () => root.querySelectorAll(".upcoming li").length > 0);
    const items = [...root.querySelectorAll(".upcoming li")].map((li) => li.querySelector("strong")!.textContent);
    expect(items).toEqual(["Kontortid", "INF1000 forelesning"]);
    expect(root.querySelector(".upcoming li")!.textContent).toContain("in progress");
    await act(async () => root.querySelector<HTMLButtonElement>('.upcoming button[aria-label="Start “INF1000 forelesning”"]')!.click());
    expect(onStart).toHaveBeenCalledWith(expect.objectContaining({ id: "100000001" }));

    // The link, for the course page: copied, and said so.
    const writeText = vi.fn(async (_: string) => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    await act(async () => root.querySelector<HTMLButtonElement>('button[aria-label="Copy link to “INF1000 forelesning”"]')!.click());
    expect(writeText).toHaveBeenCalledWith("http://meet.uio.no/j/100000001");
    await until("the copy said", () => [...root.querySelectorAll(".upcoming [role=status]")].some((s) => s.textContent === "Link copied."));

    // Hosting now: the topic typed, and the waiting room.
    await act(async () => {
      const topic = root.querySelector<HTMLInputElement>("#topic")!;
      topic.value = "Veiledning";
      topic.dispatchEvent(new Event("input"));
    });
    await act(async () => root.querySelector<HTMLFormElement>('form[aria-labelledby="host-heading"]')!.requestSubmit());
    expect(onHost).toHaveBeenCalledWith({ topic: "Veiledning", waitingRoom: true });
  });

  it("says when there are none, and when they could not be fetched", async () => {
    const empty = new RestClient("meet.uio.no", true, "samla_ok", fakeServer("samla_ok").fetch);
    mount("nn", { serverHost: "meet.uio.no", account: { status: "signed_in", me: ME, client: empty, token: "samla_ok" } });
    await until("the empty list said", () => text().includes("Du har ingen planlagde møte framover."));
    const down = new RestClient("meet.uio.no", true, "samla_ok", async () => {
      throw new TypeError("Failed to fetch");
    });
    mount("en", { serverHost: "meet.uio.no", account: { status: "signed_in", me: ME, client: down, token: "samla_ok" } });
    await until("the failure said", () => root.querySelector(".upcoming [role=alert]")?.textContent === "Could not fetch your meetings: Failed to fetch");
    expect(button("Host a meeting")).toBeDefined();
  });
});

describe("Home: scheduling and deleting meetings", () => {
  const signedIn = (server: ReturnType<typeof fakeServer>) =>
    ({ status: "signed_in", me: ME, client: new RestClient("meet.uio.no", true, "samla_ok", server.fetch), token: "samla_ok" }) as const;
  const fill = (selector: string, value: string) =>
    act(async () => {
      const input = root.querySelector<HTMLInputElement | HTMLSelectElement>(selector)!;
      input.value = value;
      input.dispatchEvent(new Event(input.tagName === "SELECT" ? "change" : "input"));
    });
  const submitSchedule = () => act(async () => root.querySelector<HTMLFormElement>("details.schedule form")!.requestSubmit());
  const status = () => root.querySelector("details.schedule [role=status]")?.textContent;
  /** A datetime-local value `hours` from now, on the user's clock. */
  const hoursAhead = (hours: number) => {
    const d = new Date(Date.now() + hours * 3600_000);
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  };

  it("schedules one for later, with the server's reason when it refuses, and lists it", async () => {
    const server = fakeServer("samla_ok");
    mount("en", { serverHost: "meet.uio.no", account: signedIn(server) });
    await until("the empty list", () => text().includes("You have no meetings scheduled ahead."));
    await fill("#schedule-topic", "Eksamen INF1000");
    await fill("#schedule-start", hoursAhead(-1));
    await submitSchedule();
    expect(status()).toBe("Choose a time ahead.");
    expect(server.requests.filter((r) => r.startsWith("POST"))).toHaveLength(0);

    const start = hoursAhead(26);
    await fill("#schedule-start", start);
    await fill("#schedule-duration", "120");
    await fill("#schedule-passcode", "12");
    await submitSchedule();
    await until("the refusal said", () => status() === "Could not schedule the meeting: passcode must have 4 to 32 characters");

    await fill("#schedule-passcode", "4321");
    await submitSchedule();
    await until("the meeting scheduled", () => status() === "The meeting is scheduled.");
    const created = server.meetings[0]!;
    expect([created.topic, created.duration_minutes, created.has_passcode, created.waiting_room]).toEqual(["Eksamen INF1000", 120, true, true]);
    // The time typed is the user's own clock; the server gets it in UTC.
    expect(new Date(created.start_time!).getTime()).toBe(new Date(start).getTime());
    await until("the new meeting listed", () => [...root.querySelectorAll(".upcoming li strong")].some((s) => s.textContent === "Eksamen INF1000"));
    expect(root.querySelector<HTMLInputElement>("#schedule-topic")!.value).toBe("");
  });

  it("deletes one after asking, and keeps it when the user says no", async () => {
    const server = fakeServer("samla_ok", [meeting("100000007", "Kontortid", new Date(Date.now() + 3600_000).toISOString())]);
    mount("nb", { serverHost: "meet.uio.no", account: signedIn(server) });
    await until("the meeting listed", () => root.querySelectorAll(".upcoming li").length === 1);
    const confirm = vi.fn().mockReturnValueOnce(false).mockReturnValueOnce(true);
    const before = globalThis.confirm;
    globalThis.confirm = confirm;
    try {
      const remove = () => act(async () => root.querySelector<HTMLButtonElement>('button[aria-label="Slett «Kontortid»"]')!.click());
      await remove();
      expect(confirm).toHaveBeenLastCalledWith("Slette «Kontortid»? Lenken til møtet slutter å virke.");
      expect(server.meetings).toHaveLength(1);
      await remove();
      await until("the list without it", () => text().includes("Du har ingen planlagte møter framover."));
      expect(server.meetings).toHaveLength(0);
    } finally {
      globalThis.confirm = before;
    }
  });
});

describe("Home: changing a scheduled meeting", () => {
  it("moves it and renames it, keeping the passcode, and the list shows the change", async () => {
    const start = new Date(Date.now() + 3600_000);
    start.setSeconds(0, 0);
    const server = fakeServer("samla_ok", [{ ...meeting("100000031", "Kontortid", start.toISOString(), 45), has_passcode: true }]);
    mount("en", {
      serverHost: "meet.uio.no",
      account: { status: "signed_in", me: ME, client: new RestClient("meet.uio.no", true, "samla_ok", server.fetch), token: "samla_ok" },
    });
    await until("the meeting listed", () => root.querySelectorAll(".upcoming li").length === 1);
    await act(async () => root.querySelector<HTMLButtonElement>('button[aria-label="Edit “Kontortid”"]')!.click());
    const form = root.querySelector<HTMLFormElement>('form[aria-label="Edit “Kontortid”"]')!;
    const field = (name: string) => form.querySelector<HTMLInputElement & HTMLSelectElement>(`#edit-100000031-${name}`)!;
    expect(field("topic").value).toBe("Kontortid");
    // (The length's <select> is not read here: happy-dom shows its first option whatever the
    // value; Chromium's test reads it. The 45 minutes sent back below say the form kept it.)
    expect(form.textContent).toContain("New passcode (empty: keeps the old one)");
    const later = new Date(start.getTime() + 86_400_000);
    const pad = (n: number) => String(n).padStart(2, "0");
    await act(async () => {
      field("topic").value = "Kontortid (flyttet)";
      field("topic").dispatchEvent(new Event("input"));
      field("start").value = `${later.getFullYear()}-${pad(later.getMonth() + 1)}-${pad(later.getDate())}T${pad(later.getHours())}:${pad(later.getMinutes())}`;
      field("start").dispatchEvent(new Event("input"));
    });
    await act(async () => form.requestSubmit());
    await until("the list showing the change", () => root.querySelector(".upcoming li strong")?.textContent === "Kontortid (flyttet)");
    const changed = server.meetings[0]!;
    expect([new Date(changed.start_time!).getTime(), changed.duration_minutes, changed.has_passcode]).toEqual([later.getTime(), 45, true]);
    expect(server.requests).toContain("PATCH https://meet.uio.no/api/v1/meetings/100000031");
  });
});

describe("upcoming meetings: when", () => {
  it("say today and tomorrow in the page's language, and the weekday further ahead", async () => {
    const now = new Date(2026, 11, 7, 9, 0); // Monday 7 December, 09:00 on the user's clock
    const at = (day: number, hour: number) => new Date(2026, 11, day, hour, 15).toISOString();
    const meetings = [meeting("100000011", "A", at(7, 10)), meeting("100000012", "B", at(8, 8)), meeting("100000013", "C", at(10, 12))];
    const whens = async (lang: Lang) => {
      act(() => {
        render(
          <I18nContext.Provider value={{ lang, t: translator(lang) }}>
            <UpcomingMeetings load={async () => meetings} onJoin={() => {}} onDelete={async () => {}} onChange={async () => {}} now={() => now} />
          </I18nContext.Provider>,
          root,
        );
      });
      await until("the meetings listed", () => root.querySelectorAll(".upcoming time").length === 3);
      return [...root.querySelectorAll(".upcoming time")].map((el) => el.textContent);
    };
    expect(await whens("nb")).toEqual(["I dag 10:15", "I morgen 08:15", "Torsdag 10. desember 12:15"]);
    act(() => render(null, root));
    expect(await whens("en")).toEqual(["Today 10:15", "Tomorrow 08:15", "Thursday 10 December 12:15"]);
  });
});

describe("upcoming meetings: as time passes", () => {
  it("say when one has started, and drop it once it is over", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      let clock = new Date(2026, 11, 7, 10, 0);
      const lecture = meeting("100000021", "Forelesning", new Date(2026, 11, 7, 10, 15).toISOString(), 45);
      act(() => {
        render(
          <I18nContext.Provider value={{ lang: "en", t: translator("en") }}>
            <UpcomingMeetings load={async () => [lecture]} onJoin={() => {}} onDelete={async () => {}} onChange={async () => {}} now={() => clock} />
          </I18nContext.Provider>,
          root,
        );
      });
      await until("the lecture listed", () => root.querySelectorAll(".upcoming li").length === 1);
      expect(root.querySelector(".upcoming li")!.textContent).not.toContain("in progress");
      clock = new Date(2026, 11, 7, 10, 20);
      act(() => void vi.advanceTimersByTime(30_000));
      expect(root.querySelector(".upcoming li")!.textContent).toContain("in progress");
      clock = new Date(2026, 11, 7, 11, 1);
      act(() => void vi.advanceTimersByTime(30_000));
      expect(root.querySelectorAll(".upcoming li")).toHaveLength(0);
      expect(text()).toContain("You have no meetings scheduled ahead.");
    } finally {
      vi.useRealTimers();
    }
  });
});
