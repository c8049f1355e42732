// The rules a meeting starts with (participants muted when they join, who may share their
// screen), set when it is scheduled or changed: what the form shows, and what reaches the server.

import { render } from "preact";
import { act } from "preact/test-utils";
import { describe, expect, it } from "vitest";
import { I18nContext, translator, type Lang } from "../i18n";
import { RestClient, type ApiMeeting } from "../protocol/rest";
import { ME, fakeServer, meeting } from "../test/fake-server";
import { Home } from "./Home";
import { root, until, useDomRoot } from "../test/dom-root";

useDomRoot();

/** One request that had a body, as the server got it. */
interface Sent {
  method: string;
  url: string;
  body: Record<string, unknown>;
}

/** Home signed in to a fake server holding `meetings`; `sent` collects the bodies it is sent. */
function signedInHome(lang: Lang, meetings: ApiMeeting[] = []) {
  const server = fakeServer("samla_ok", meetings);
  const sent: Sent[] = [];
  const recording: typeof fetch = (input, init) => {
    if (typeof init?.body === "string") sent.push({ method: init.method ?? "GET", url: String(input), body: JSON.parse(init.body) });
    return server.fetch(input, init);
  };
  const client = new RestClient("meet.uio.no", true, "samla_ok", recording);
  act(() => {
    render(
      <I18nContext.Provider value={{ lang, t: translator(lang) }}>
        <Home
          serverHost="meet.uio.no"
          onServerHost={() => {}}
          account={{ status: "signed_in", me: ME, client, token: "samla_ok" }}
          onJoin={() => {}}
          onHost={async () => {}}
          onStart={() => {}}
          onSettings={() => {}}
        />
      </I18nContext.Provider>,
      root,
    );
  });
  return { server, sent };
}

/** The checkbox labelled `label` in `form`, found as a user finds it: by its text. */
const box = (form: Element, label: string) => {
  const found = [...form.querySelectorAll("label")].find((l) => l.textContent === label);
  if (!found) throw new Error(`no checkbox “${label}”`);
  return found.querySelector<HTMLInputElement>("input[type=checkbox]")!;
};
const MUTE = "Mute participants when they join";
const HOSTS_SHARE = "Only hosts may share their screen";

/** A datetime-local value a day from now, on the user's clock. */
function tomorrow(): string {
  const d = new Date(Date.now() + 86_400_000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

async function schedule(form: HTMLFormElement, topic: string) {
  await act(async () => {
    const input = form.querySelector<HTMLInputElement>("#schedule-topic")!;
    input.value = topic;
    input.dispatchEvent(new Event("input"));
    const start = form.querySelector<HTMLInputElement>("#schedule-start")!;
    start.value = tomorrow();
    start.dispatchEvent(new Event("input"));
  });
  await act(async () => form.requestSubmit());
  await until("the meeting scheduled", () => form.querySelector("[role=status]")?.textContent === "The meeting is scheduled.");
}

describe("scheduling a meeting: the rules it starts with", () => {
  it("are off unless ticked, and the server is told so", async () => {
    const { server, sent } = signedInHome("en");
    const form = root.querySelector<HTMLFormElement>("details.schedule form")!;
    expect([box(form, MUTE).checked, box(form, HOSTS_SHARE).checked]).toEqual([false, false]);
    await schedule(form, "Seminar");
    const post = sent.filter((s) => s.method === "POST");
    expect(post).toHaveLength(1);
    expect(post[0]!.body).toMatchObject({ topic: "Seminar", mute_on_entry: false, share_policy: "everyone" });
    expect([server.meetings[0]!.mute_on_entry, server.meetings[0]!.share_policy]).toEqual([false, "everyone"]);
  });

  it("sends both when ticked, and the new meeting has them", async () => {
    const { server, sent } = signedInHome("en");
    const form = root.querySelector<HTMLFormElement>("details.schedule form")!;
    act(() => box(form, MUTE).click());
    act(() => box(form, HOSTS_SHARE).click());
    await schedule(form, "Eksamen");
    const post = sent.filter((s) => s.method === "POST");
    expect(post.map((s) => s.url)).toEqual(["https://meet.uio.no/api/v1/meetings"]);
    expect(post[0]!.body).toMatchObject({ topic: "Eksamen", mute_on_entry: true, share_policy: "hosts_only" });
    expect([server.meetings[0]!.mute_on_entry, server.meetings[0]!.share_policy]).toEqual([true, "hosts_only"]);
  });

  it("are said in bokmål and nynorsk too", () => {
    signedInHome("nb");
    const nb = root.querySelector("details.schedule form")!;
    expect([box(nb, "Demp deltakere når de kommer inn"), box(nb, "Bare verter kan dele skjermen")]).toHaveLength(2);
    act(() => render(null, root));
    signedInHome("nn");
    const nn = root.querySelector("details.schedule form")!;
    expect([box(nn, "Demp deltakarar når dei kjem inn"), box(nn, "Berre vertar kan dele skjermen")]).toHaveLength(2);
  });
});

describe("changing a scheduled meeting: the rules it starts with", () => {
  const inAnHour = () => {
    const d = new Date(Date.now() + 3600_000);
    d.setSeconds(0, 0);
    return d.toISOString();
  };

  async function openEdit(id: string, topic: string): Promise<HTMLFormElement> {
    await until("the meeting listed", () => root.querySelectorAll(".upcoming li").length === 1);
    await act(async () => root.querySelector<HTMLButtonElement>(`button[aria-label="Edit “${topic}”"]`)!.click());
    const form = root.querySelector<HTMLFormElement>(`form[aria-label="Edit “${topic}”"]`)!;
    expect(form.querySelector(`#edit-${id}-topic`)).not.toBeNull();
    return form;
  }

  it("open as the meeting has them, and only the one unticked is sent", async () => {
    const ruled = { ...meeting("100000041", "Eksamen", inAnHour(), 60), mute_on_entry: true, share_policy: "hosts_only" as const };
    const { server, sent } = signedInHome("en", [ruled]);
    const form = await openEdit("100000041", "Eksamen");
    expect([box(form, MUTE).checked, box(form, HOSTS_SHARE).checked]).toEqual([true, true]);

    act(() => box(form, MUTE).click());
    await act(async () => form.requestSubmit());
    await until("the form closed", () => root.querySelector('form[aria-label="Edit “Eksamen”"]') === null);
    const patch = sent.filter((s) => s.method === "PATCH");
    expect(patch.map((s) => s.url)).toEqual(["https://meet.uio.no/api/v1/meetings/100000041"]);
    expect(patch[0]!.body.mute_on_entry).toBe(false);
    expect("share_policy" in patch[0]!.body).toBe(false);
    expect([server.meetings[0]!.mute_on_entry, server.meetings[0]!.share_policy]).toEqual([false, "hosts_only"]);
  });

  it("open unticked for a meeting without them, and are not sent when left alone", async () => {
    const { sent } = signedInHome("en", [meeting("100000042", "Kontortid", inAnHour(), 45)]);
    const form = await openEdit("100000042", "Kontortid");
    expect([box(form, MUTE).checked, box(form, HOSTS_SHARE).checked]).toEqual([false, false]);
    await act(async () => form.requestSubmit());
    await until("the form closed", () => root.querySelector('form[aria-label="Edit “Kontortid”"]') === null);
    const patch = sent.filter((s) => s.method === "PATCH");
    expect(patch).toHaveLength(1);
    expect(patch[0]!.body).not.toHaveProperty("mute_on_entry");
    expect(patch[0]!.body).not.toHaveProperty("share_policy");
  });

  it("sends sharing for hosts only when ticked on a meeting without it", async () => {
    const { server, sent } = signedInHome("en", [meeting("100000043", "Forelesning", inAnHour(), 90)]);
    const form = await openEdit("100000043", "Forelesning");
    act(() => box(form, HOSTS_SHARE).click());
    await act(async () => form.requestSubmit());
    await until("the form closed", () => root.querySelector('form[aria-label="Edit “Forelesning”"]') === null);
    const patch = sent.filter((s) => s.method === "PATCH");
    expect(patch[0]!.body.share_policy).toBe("hosts_only");
    expect(patch[0]!.body).not.toHaveProperty("mute_on_entry");
    expect(server.meetings[0]!.share_policy).toBe("hosts_only");
  });
});
