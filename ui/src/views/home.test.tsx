import { render } from "preact";
import { act } from "preact/test-utils";
import { describe, expect, it, vi } from "vitest";
import { I18nContext, translator, type Lang } from "../i18n";
import { RestClient } from "../protocol/rest";
import { ME, fakeServer, meeting } from "../test/fake-server";
import { Home, type HomeProps } from "./Home";
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
