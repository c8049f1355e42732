import { render } from "preact";
import { act } from "preact/test-utils";
import { describe, expect, it, vi } from "vitest";
import { App, type AppConfig } from "./app";
import type { DeviceChoice } from "./media/backend";
import { NullMediaBackend } from "./media/browser";
import { SignallingClient, type SocketLike } from "./protocol/client";
import { PREFERENCES_KEY } from "./settings/preferences";
import { fakeServer } from "./test/fake-server";
import type { ClientMessage, MeetingState, ParticipantInfo, PollView, Role, ServerMessage } from "./protocol/messages";
import { root, until, useDomRoot } from "./test/dom-root";
import { meetingState, participant } from "./test/fixtures";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: ClientMessage[] = [];
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data) as ClientMessage);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  receive(msg: ServerMessage) {
    this.onmessage?.({ data: JSON.stringify(msg) } as MessageEvent);
  }
}

/** Records how the app opens the devices. */
class RecordingMedia extends NullMediaBackend {
  opened: { mic: boolean; camera: boolean; devices?: DeviceChoice | undefined }[] = [];
  override async openDevices(opts: { mic: boolean; camera: boolean; devices?: DeviceChoice }) {
    this.opened.push(opts);
    await super.openDevices(opts);
  }
}

/** A backend whose cameras can be plugged in, telling the app as the real ones do. */
class PluggableMedia extends NullMediaBackend {
  cameras = [{ id: "cam-1", kind: "videoinput" as const, label: "Innebygd kamera" }];
  private changedListeners = new Set<() => void>();
  override async listDevices() {
    return [...this.cameras];
  }
  onDevicesChanged(listener: () => void) {
    this.changedListeners.add(listener);
    return () => this.changedListeners.delete(listener);
  }
  plug(label: string) {
    this.cameras.push({ id: `cam-${this.cameras.length + 1}`, kind: "videoinput", label });
    for (const l of [...this.changedListeners]) l();
  }
  unplug(label: string) {
    this.cameras = this.cameras.filter((c) => c.label !== label);
    for (const l of [...this.changedListeners]) l();
  }
  get watched() {
    return this.changedListeners.size;
  }
}

useDomRoot();

const config: AppConfig = {
  meetingId: "123456789",
  name: "Kari",
  langQuery: "en",
  systemLanguages: ["nb-NO"],
  serverHost: "møte.example:7700",
  secure: false,
  chooseServer: false,
};

const flush = () => act(async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
});

/** Renders the app with signalling to fake sockets and `media` as each backend it makes (a new
 * RecordingMedia each time without one); returns both, in the order the app made them. */
function renderApp<M extends NullMediaBackend = RecordingMedia>(media?: M, overrides: Partial<AppConfig> = {}) {
  const sockets: FakeSocket[] = [];
  const made: M[] = [];
  act(() => {
    render(
      <App
        config={{ ...config, ...overrides }}
        deps={{
          makeClient: (url) =>
            new SignallingClient({
              url,
              socketFactory: (u) => {
                const socket = new FakeSocket(u);
                sockets.push(socket);
                return socket;
              },
            }),
          makeMedia: () => {
            const m = media ?? (new RecordingMedia() as unknown as M);
            made.push(m);
            return m;
          },
        }}
      />,
      root,
    );
  });
  return { sockets, media: made };
}

/** Runs `body` with `fetch` answered by a fake samla-server that knows `token`. */
async function withServer(token: string, body: (server: ReturnType<typeof fakeServer>) => Promise<void>) {
  const realFetch = globalThis.fetch;
  const server = fakeServer(token);
  globalThis.fetch = server.fetch;
  try {
    await body(server);
  } finally {
    globalThis.fetch = realFetch;
    sessionStorage.clear();
  }
}

describe("app: device lists", () => {
  it("follow a camera plugged in and out before joining", async () => {
    const media = new PluggableMedia();
    renderApp(media);
    await flush();
    const cameras = () => [...root.querySelectorAll<HTMLOptionElement>("#cam-device option")].map((o) => o.textContent);
    expect(cameras()).toEqual(["Default", "Innebygd kamera"]);

    media.plug("USB-kamera");
    await flush();
    expect(cameras()).toEqual(["Default", "Innebygd kamera", "USB-kamera"]);

    media.unplug("Innebygd kamera");
    await flush();
    expect(cameras()).toEqual(["Default", "USB-kamera"]);

    // Gone with the app: no listener is left behind.
    act(() => render(null, root));
    expect(media.watched).toBe(0);
  });
});

describe("app: another device picked before joining", () => {
  it("opens the devices again with it, keeping the backend and the toggles", async () => {
    const media = new RecordingMedia();
    media.listDevices = async () => [{ id: "mic-2", kind: "audioinput", label: "Headset" }];
    let closed = 0;
    media.close = () => void closed++;
    renderApp(media);
    await flush();
    const micBox = [...root.querySelectorAll<HTMLInputElement>('input[type="checkbox"]')].find((c) =>
      c.parentElement?.textContent?.includes("Microphone on"),
    )!;
    act(() => micBox.click());
    const picker = root.querySelector("#mic-device") as HTMLSelectElement;
    await act(async () => {
      picker.value = "mic-2";
      picker.dispatchEvent(new Event("change"));
    });
    await flush();
    // Both open again (either can be switched on later); the microphone stays off as chosen.
    expect(media.opened.at(-1)).toEqual({ mic: true, camera: true, devices: { audioInput: "mic-2", videoInput: undefined } });
    expect(closed).toBe(0);
    expect(media.local.micMuted).toBe(true);
  });
});

describe("app: from the join link into the meeting", () => {
  it("previews the camera before joining, keeps the devices and the choices, and shows the link", async () => {
    const { sockets, media } = renderApp();
    await flush();

    // The pre-join screen opened the devices for its preview, and did not connect yet.
    expect(media).toHaveLength(1);
    expect(media[0]!.opened).toEqual([{ mic: true, camera: true }]);
    expect(sockets).toHaveLength(0);
    expect(root.querySelector('[role="img"]')?.getAttribute("aria-label")).toBe("Camera preview");
    expect((root.querySelector("#name") as HTMLInputElement).value).toBe("Kari");

    // Camera off before joining: the preview says so.
    const cameraBox = [...root.querySelectorAll<HTMLInputElement>('input[type="checkbox"]')].find((c) =>
      c.parentElement?.textContent?.includes("Camera on"),
    )!;
    act(() => cameraBox.click());
    expect(media[0]!.local.cameraOn).toBe(false);
    expect(root.querySelector('[role="img"]')?.getAttribute("aria-label")).toBe("The camera is off");

    act(() => root.querySelector<HTMLButtonElement>("#join")!.click());
    await flush();
    // The same devices, as chosen; the socket goes to the server's /ws.
    expect(media).toHaveLength(1);
    expect(media[0]!.opened).toHaveLength(1);
    expect(media[0]!.local.cameraOn).toBe(false);
    expect(sockets).toHaveLength(1);
    expect(sockets[0]!.url).toBe("ws://møte.example:7700/ws");

    const sock = sockets[0]!;
    act(() => sock.open());
    act(() => sock.receive({ type: "welcome", version: 1, server: "samla-server/test" }));
    expect(sock.sent.find((m) => m.type === "join")).toMatchObject({ meeting_id: "123456789", display_name: "Kari" });
    act(() =>
      sock.receive({
        type: "joined",
        you: 1,
        role: "participant",
        resume_token: "t",
        meeting: meetingState(),
        participants: [participant(1, "Kari")],
        waiting: [],
        chat: [],
      }),
    );
    await flush();
    expect(root.querySelector(".meeting h1")?.textContent).toBe("Matte 101");
    expect(root.querySelector('[aria-label="Meeting link"]')?.textContent).toBe("http://møte.example:7700/j/123456789");
    expect(document.title).toBe("Matte 101 – Samla");
    // The server is told the camera is off.
    expect(sock.sent.filter((m) => m.type === "set_media").at(-1)).toMatchObject({ video_on: false });
  });
});

describe("app: the user's settings", () => {
  it("fill in the name and join with the microphone off, as set", async () => {
    localStorage.setItem(PREFERENCES_KEY, JSON.stringify({ name: "Ola", joinMuted: true, joinCameraOff: false }));
    try {
      const media = new RecordingMedia();
      renderApp(media, { name: "" });
      await flush();
      expect(root.querySelector<HTMLInputElement>("#name")?.value).toBe("Ola");
      const box = (label: string) =>
        [...root.querySelectorAll<HTMLInputElement>('input[type="checkbox"]')].find((c) => c.parentElement?.textContent?.includes(label))!;
      expect([box("Microphone on").checked, box("Camera on").checked]).toEqual([false, true]);
      // Opened both, so the microphone can be switched on before joining; then muted as set.
      expect(media.opened).toEqual([{ mic: true, camera: true }]);
      expect([media.local.micMuted, media.local.cameraOn]).toEqual([true, true]);

      // A name in the join link still wins.
      act(() => render(null, root));
      renderApp(new RecordingMedia(), { name: "Kari" });
      await flush();
      expect(root.querySelector<HTMLInputElement>("#name")?.value).toBe("Kari");
    } finally {
      localStorage.removeItem(PREFERENCES_KEY);
    }
  });
});

describe("app: signed in to the server", () => {
  it("joins a meeting opened by its link as the signed-in user", async () => {
    // The token this tab keeps for the server; the server (a fake fetch here) knows it.
    sessionStorage.setItem("samla.token.møte.example:7700", "samla_kari");
    await withServer("samla_kari", async (server) => {
      const { sockets } = renderApp();
      // Signed in once the server has said whose token it is; then join.
      await until("the token checked with the server", () => server.requests.includes("GET http://møte.example:7700/api/v1/me"));
      await flush();
      act(() => root.querySelector<HTMLButtonElement>("#join")!.click());
      await flush();
      const sock = sockets[0]!;
      act(() => sock.open());
      act(() => sock.receive({ type: "welcome", version: 1, server: "samla-server/test" }));
      expect(sock.sent.find((m) => m.type === "join")).toMatchObject({ meeting_id: "123456789", token: "samla_kari" });
    });
  });
});

describe("app: a meeting for signed-in users only", () => {
  it("offers to sign in when the server asks for it, and joins signed in after", async () => {
    await withServer("samla_ola", async () => {
      const { sockets } = renderApp();
      await flush();
      const button = (label: string) => [...root.querySelectorAll("button")].find((b) => b.textContent === label);
      expect(button("Sign in")).toBeUndefined();
      act(() => root.querySelector<HTMLButtonElement>("#join")!.click());
      await flush();
      const sock = sockets[0]!;
      act(() => sock.open());
      act(() => sock.receive({ type: "welcome", version: 1, server: "samla-server/test" }));
      expect(sock.sent.find((m) => m.type === "join")).not.toHaveProperty("token");
      act(() => sock.receive({ type: "error", code: "sign_in_required", message: "sign in first" }));
      await flush();
      expect(root.textContent).toContain("You must be signed in to join this meeting.");

      await act(async () => button("Sign in")!.click());
      await until("the token field", () => !!root.querySelector("#api-token"));
      await act(async () => {
        const input = root.querySelector<HTMLInputElement>("#api-token")!;
        input.value = "samla_ola";
        input.dispatchEvent(new Event("input"));
      });
      await act(async () => root.querySelector<HTMLFormElement>(".settings form")!.requestSubmit());
      await until("signed in", () => (root.textContent ?? "").includes("Signed in as Kari Nordmann"));
      await act(async () => button("Back")!.click());
      await until("the pre-join screen again", () => !!root.querySelector("#join"));
      act(() => root.querySelector<HTMLButtonElement>("#join")!.click());
      await flush();
      const joins = sockets.flatMap((s) => s.sent.filter((m) => m.type === "join"));
      expect(joins.at(-1)).toMatchObject({ meeting_id: "123456789", token: "samla_ola" });
    });
  });
});

// ---- the meeting's security settings, as a teacher sets them and a student meets them ----

const LECTURE: MeetingState = meetingState();
const kari = (role: Role, extra: Partial<ParticipantInfo> = {}): ParticipantInfo => participant(1, "Kari", { role, ...extra });

/** Joins from the pre-join screen with the microphone on (as it opens) and is let in as `self`. */
async function enter(meeting: Partial<MeetingState>, self: ParticipantInfo, media: RecordingMedia = new RecordingMedia()) {
  const { sockets } = renderApp(media);
  await flush();
  const micBox = [...root.querySelectorAll<HTMLInputElement>('input[type="checkbox"]')].find((c) =>
    c.parentElement?.textContent?.includes("Microphone on"),
  )!;
  expect(micBox.checked).toBe(true);
  act(() => root.querySelector<HTMLButtonElement>("#join")!.click());
  await flush();
  const sock = sockets[0]!;
  act(() => sock.open());
  act(() => sock.receive({ type: "welcome", version: 1, server: "samla-server/test" }));
  act(() =>
    sock.receive({
      type: "joined",
      you: 1,
      role: self.role,
      resume_token: "t",
      meeting: { ...LECTURE, ...meeting },
      participants: [self, { ...kari("host"), id: 2, name: "Lærer" }],
      waiting: [],
      chat: [],
    }),
  );
  await flush();
  return { sock, media };
}

const micButton = () => root.querySelector<HTMLButtonElement>('.controls button[aria-keyshortcuts="M"]')!;
const shareButton = () =>
  [...root.querySelectorAll<HTMLButtonElement>(".controls button")].find((b) => /^(Share screen|Stop sharing)$/.test(b.textContent ?? ""))!;
const notices = () => [...root.querySelectorAll(".notices li")].map((li) => li.textContent ?? "");
const mediaSent = (sock: FakeSocket) => sock.sent.filter((m) => m.type === "set_media");
const key = (k: string, type: "keydown" | "keyup" = "keydown") => act(() => void window.dispatchEvent(new KeyboardEvent(type, { key: k })));

describe("app: the host's security settings", () => {
  it("are three checkboxes that ask the server and show what it says", async () => {
    const { sock } = await enter({}, kari("host"));
    act(() => [...root.querySelectorAll("button")].find((b) => b.textContent?.startsWith("Participants ("))!.click());
    const group = root.querySelector("fieldset.security")!;
    expect(group.querySelector("legend")?.textContent).toBe("Security");
    const box = (label: string) => [...group.querySelectorAll("label")].find((l) => l.textContent === label)!.querySelector("input")!;
    const share = () => box("Participants may share their screen");
    const unmute = () => box("Participants may unmute themselves");
    const onEntry = () => box("Mute participants when they join");
    expect([share().checked, unmute().checked, onEntry().checked]).toEqual([true, true, false]);

    sock.sent = [];
    act(() => share().click());
    act(() => unmute().click());
    act(() => onEntry().click());
    expect(sock.sent).toEqual([
      { type: "set_share_policy", policy: "hosts_only" },
      { type: "set_self_unmute", allowed: false },
      { type: "set_mute_on_entry", mute_on_entry: true },
    ]);
    // Nothing changed until the server says so.
    expect([share().checked, unmute().checked, onEntry().checked]).toEqual([true, true, false]);

    act(() => sock.receive({ type: "meeting_updated", meeting: { ...LECTURE, share_policy: "hosts_only", self_unmute: false, mute_on_entry: true } }));
    expect([share().checked, unmute().checked, onEntry().checked]).toEqual([false, false, true]);

    sock.sent = [];
    act(() => share().click());
    act(() => unmute().click());
    act(() => onEntry().click());
    expect(sock.sent).toEqual([
      { type: "set_share_policy", policy: "everyone" },
      { type: "set_self_unmute", allowed: true },
      { type: "set_mute_on_entry", mute_on_entry: false },
    ]);
  });

  it("leave a host's own microphone alone: a host joining a meeting that mutes on entry keeps it on", async () => {
    const { sock, media } = await enter({ mute_on_entry: true, self_unmute: false }, kari("host"));
    expect(media.local.micMuted).toBe(false);
    expect(mediaSent(sock)[0]).toMatchObject({ audio_muted: false });
    expect(micButton().hasAttribute("aria-disabled")).toBe(false);
  });
});

describe("app: a participant who may not unmute", () => {
  it("stays muted on Unmute, M and space, is told why and offered to raise a hand; unmutes once asked to", async () => {
    const { sock, media } = await enter({ self_unmute: false }, kari("participant", { may_unmute: false }));
    // Muted on entry although the pre-join had the microphone on, and the server never heard otherwise.
    expect(media.local.micMuted).toBe(true);
    expect(mediaSent(sock).length).toBeGreaterThan(0);
    expect(mediaSent(sock).every((m) => m.type === "set_media" && m.audio_muted)).toBe(true);

    const mic = micButton();
    expect(mic.textContent).toBe("Unmute");
    expect(mic.getAttribute("aria-disabled")).toBe("true");
    expect(mic.title).toBe("The host has not allowed participants to unmute themselves. Raise your hand if you want to speak.");

    act(() => mic.click());
    key("m");
    key(" ");
    key(" ", "keyup");
    expect(media.local.micMuted).toBe(true);
    expect(mediaSent(sock).some((m) => m.type === "set_media" && !m.audio_muted)).toBe(false);
    // Told once, however often pressed.
    expect(notices().filter((n) => n.includes("The host has not allowed participants to unmute themselves."))).toHaveLength(1);

    const raise = [...root.querySelectorAll<HTMLButtonElement>(".notices button")].find((b) => b.textContent === "Raise hand")!;
    sock.sent = [];
    act(() => raise.click());
    expect(sock.sent).toEqual([{ type: "raise_hand" }]);
    act(() => sock.receive({ type: "participant_updated", participant: kari("participant", { may_unmute: false, hand_raised: true, audio_muted: true }) }));
    expect([...root.querySelectorAll(".notices button")].some((b) => b.textContent === "Raise hand")).toBe(false);
    expect(micButton().title).toBe("The host has not allowed participants to unmute themselves.");

    // The teacher asks Kari to speak: now Unmute works.
    act(() => sock.receive({ type: "participant_updated", participant: kari("participant", { may_unmute: true, hand_raised: true, audio_muted: true }) }));
    act(() => sock.receive({ type: "unmute_requested", by: 2 }));
    expect(notices().some((n) => n.includes("Lærer asks you to unmute."))).toBe(true);
    expect(notices().some((n) => n.includes("has not allowed"))).toBe(false);
    expect(micButton().hasAttribute("aria-disabled")).toBe(false);
    sock.sent = [];
    act(() => micButton().click());
    expect(media.local.micMuted).toBe(false);
    expect(sock.sent).toEqual([{ type: "set_media", audio_muted: false, video_on: true }]);
  });
});

/** Opens the devices only when let, as a browser does while it asks for permission. */
class SlowMedia extends RecordingMedia {
  private release: (() => void) | null = null;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));
  override async openDevices(opts: { mic: boolean; camera: boolean; devices?: DeviceChoice }) {
    await this.gate;
    await super.openDevices(opts);
  }
  open() {
    this.release?.();
  }
}

describe("app: joining a meeting that mutes participants when they join", () => {
  it("starts muted whatever the pre-join said, tells why, and lets one unmute when allowed", async () => {
    const { sock, media } = await enter({ mute_on_entry: true }, kari("participant"));
    expect(media.local.micMuted).toBe(true);
    expect(mediaSent(sock)[0]).toMatchObject({ type: "set_media", audio_muted: true });
    expect(notices().some((n) => n.startsWith("The host mutes participants when they join.") && !n.includes("Raise your hand"))).toBe(true);
    // Participants may unmute themselves here.
    act(() => micButton().click());
    expect(media.local.micMuted).toBe(false);
    expect(mediaSent(sock).at(-1)).toMatchObject({ audio_muted: false });
    // The seat resumed after a dropped connection is no new entry: the microphone stays on.
    act(() =>
      sock.receive({
        type: "joined",
        you: 1,
        role: "participant",
        resume_token: "t",
        meeting: { ...LECTURE, mute_on_entry: true },
        participants: [kari("participant")],
        waiting: [],
        chat: [],
      }),
    );
    expect(media.local.micMuted).toBe(false);
  });

  it("says to raise a hand when participants may not unmute themselves", async () => {
    await enter({ mute_on_entry: true, self_unmute: false }, kari("participant", { may_unmute: false }));
    const notice = [...root.querySelectorAll(".notices li")].find((li) => li.textContent?.includes("The host mutes participants when they join."))!;
    expect(notice.textContent).toContain("Raise your hand if you want to speak.");
    expect([...notice.querySelectorAll("button")].map((b) => b.textContent)).toContain("Raise hand");
  });

  it("keeps the microphone off when the devices open only after the meeting let us in", async () => {
    const slow = new SlowMedia();
    const { sock } = await enterSlow(slow);
    expect(slow.local.micMuted).toBe(true);
    await act(async () => slow.open());
    await flush();
    expect(slow.local.micMuted).toBe(true);
    expect(mediaSent(sock).some((m) => m.type === "set_media" && !m.audio_muted)).toBe(false);
  });
});

/** As {@link enter}, but the devices are still opening when the meeting lets us in. */
async function enterSlow(media: SlowMedia) {
  const { sockets } = renderApp(media);
  await flush();
  act(() => root.querySelector<HTMLButtonElement>("#join")!.click());
  await flush();
  const sock = sockets[0]!;
  act(() => sock.open());
  act(() => sock.receive({ type: "welcome", version: 1, server: "samla-server/test" }));
  act(() =>
    sock.receive({
      type: "joined",
      you: 1,
      role: "participant",
      resume_token: "t",
      meeting: { ...LECTURE, mute_on_entry: true },
      participants: [kari("participant")],
      waiting: [],
      chat: [],
    }),
  );
  await flush();
  return { sock };
}

describe("app: screen sharing for hosts only", () => {
  it("refuses a participant's Share with the reason, and opens no picker", async () => {
    const media = Object.assign(new RecordingMedia(), { listShareTargets: vi.fn(async () => []) });
    const start = vi.spyOn(media, "startScreenShare");
    await enter({ share_policy: "hosts_only" }, kari("participant"), media);
    const share = shareButton();
    expect(share.getAttribute("aria-disabled")).toBe("true");
    expect(share.title).toBe("Only hosts can share their screen.");
    expect(share.hasAttribute("aria-haspopup")).toBe(false);
    act(() => share.click());
    await flush();
    expect(root.querySelector('[role="dialog"]')).toBeNull();
    expect(media.listShareTargets).not.toHaveBeenCalled();
    expect(start).not.toHaveBeenCalled();
    expect(notices().some((n) => n.includes("Only hosts can share their screen."))).toBe(true);
  });

  it("stops a participant's share when the host turns sharing off, and a co-host's when made participant", async () => {
    const { sock, media } = await enter({}, kari("participant"));
    await act(async () => shareButton().click());
    expect(media.local.sharingScreen).toBe(true);
    expect(shareButton().textContent).toBe("Stop sharing");
    act(() => sock.receive({ type: "meeting_updated", meeting: { ...LECTURE, share_policy: "hosts_only" } }));
    await flush();
    expect(media.local.sharingScreen).toBe(false);
    expect(shareButton().textContent).toBe("Share screen");
    expect(shareButton().getAttribute("aria-disabled")).toBe("true");
    expect(notices().some((n) => n.includes("The host has turned off screen sharing for participants."))).toBe(true);

    act(() => render(null, root));
    const co = await enter({ share_policy: "hosts_only" }, kari("co_host"));
    expect(shareButton().hasAttribute("aria-disabled")).toBe(false);
    await act(async () => shareButton().click());
    expect(co.media.local.sharingScreen).toBe(true);
    act(() => co.sock.receive({ type: "participant_updated", participant: kari("participant") }));
    await flush();
    expect(co.media.local.sharingScreen).toBe(false);
    expect(notices().some((n) => n.includes("The host has turned off screen sharing for participants."))).toBe(true);
  });
});

// ---- polls: a teacher puts a question to the class ----

const QUIZ: PollView = {
  id: 1,
  by: 2,
  question: "Which answer is right?",
  options: ["A", "B", "C"],
  multiple: false,
  open: true,
  answered: 0,
  shared: false,
  mine: [],
};
const press = (text: string, within: ParentNode = root) => {
  const b = [...within.querySelectorAll<HTMLButtonElement>("button")].find((x) => x.textContent === text);
  expect(b, `a button "${text}"`).toBeDefined();
  act(() => b!.click());
};
const pollPanel = () => root.querySelector('section.panel.poll[aria-labelledby="poll-heading"]');
/** The poll panel's field labelled `label`, by its label's `for` or inside it. */
const pollField = <E extends HTMLElement = HTMLInputElement>(label: string) => {
  const l = [...root.querySelectorAll<HTMLLabelElement>(".poll label")].find((x) => x.textContent?.trim() === label);
  expect(l, `a field labelled "${label}"`).toBeDefined();
  return (l!.htmlFor ? root.querySelector<E>(`#${l!.htmlFor}`) : l!.querySelector<E>("input"))!;
};
const typeInto = (el: HTMLInputElement | HTMLTextAreaElement, value: string) =>
  act(() => {
    el.value = value;
    el.dispatchEvent(new Event("input"));
  });
/** Each answer's line in the results: the answer, then how many picked it and their share. */
const results = () => [...root.querySelectorAll(".poll-results li")].map((li) => li.textContent);
const pollSent = (sock: FakeSocket) => sock.sent.filter((m) => ["start_poll", "vote", "end_poll", "share_poll_results"].includes(m.type));

describe("app: a host's poll", () => {
  it("asks the question as typed, follows the answers, ends it and shares the results", async () => {
    const { sock } = await enter({}, kari("host"));
    press("Poll");
    expect(pollPanel()?.querySelector("h2")?.textContent).toBe("Poll");

    // Two answers to begin with; added ones can be removed again, up to ten in all.
    expect(root.querySelectorAll(".poll-option")).toHaveLength(2);
    press("Add answer");
    press("Add answer");
    expect(document.activeElement).toBe(pollField("Answer 4"));
    expect(root.querySelector('button[aria-label="Remove answer 2"]')).toBeNull();
    act(() => root.querySelector<HTMLButtonElement>('button[aria-label="Remove answer 4"]')!.click());
    expect(root.querySelectorAll(".poll-option")).toHaveLength(3);
    for (let i = 3; i < 10; i++) press("Add answer");
    expect(root.querySelectorAll(".poll-option")).toHaveLength(10);
    expect([...root.querySelectorAll("button")].some((b) => b.textContent === "Add answer")).toBe(false);
    expect(root.textContent).toContain("You can have at most 10 answers.");
    for (let n = 10; n > 3; n--) act(() => root.querySelector<HTMLButtonElement>(`button[aria-label="Remove answer ${n}"]`)!.click());

    sock.sent = [];
    typeInto(pollField<HTMLTextAreaElement>("Question"), "  Which answer is right?  ");
    typeInto(pollField("Answer 1"), " A ");
    typeInto(pollField("Answer 3"), "B");
    act(() => pollField("Allow more than one answer").click());
    press("Start poll");
    // Trimmed; the empty answer in between is dropped.
    expect(pollSent(sock)).toEqual([{ type: "start_poll", question: "Which answer is right?", options: ["A", "B"], multiple: true }]);

    // The server's poll: counts and shares as they come in.
    act(() => sock.receive({ type: "poll", poll: { ...QUIZ, by: 1, options: ["A", "B"], multiple: true, results: [0, 0] } }));
    expect(root.querySelector(".poll-form")).toBeNull();
    expect(pollPanel()?.querySelector(".poll-question")?.textContent).toBe("Which answer is right?");
    expect(results()).toEqual(["A 0 (0%)", "B 0 (0%)"]);
    expect(root.textContent).toContain("0 answered");
    act(() => sock.receive({ type: "poll", poll: { ...QUIZ, by: 1, options: ["A", "B"], multiple: true, results: [3, 2], answered: 4 } }));
    expect(results()).toEqual(["A 3 (75%)", "B 2 (50%)"]);
    expect(root.textContent).toContain("4 answered");
    expect(root.querySelector<HTMLElement>(".poll-results .poll-bar > span")?.style.width).toBe("75%");
    expect(notices(), "the one who started it is not told").toEqual([]);

    sock.sent = [];
    press("End poll");
    expect(pollSent(sock)).toEqual([{ type: "end_poll", poll: 1 }]);
    const ended: PollView = { ...QUIZ, by: 1, options: ["A", "B"], multiple: true, results: [3, 2], answered: 4, open: false };
    act(() => sock.receive({ type: "poll", poll: ended }));
    expect(root.textContent).toContain("The poll has ended.");
    expect(results()).toEqual(["A 3 (75%)", "B 2 (50%)"]);
    sock.sent = [];
    press("Share results");
    expect(pollSent(sock)).toEqual([{ type: "share_poll_results", poll: 1 }]);
    act(() => sock.receive({ type: "poll", poll: { ...ended, shared: true } }));
    const shared = [...root.querySelectorAll<HTMLButtonElement>(".poll button")].find((b) => b.textContent === "Results shared")!;
    expect(shared.getAttribute("aria-disabled")).toBe("true");
    sock.sent = [];
    act(() => shared.click());
    expect(pollSent(sock)).toEqual([]);

    // A new poll: the form again, empty, ready for the question.
    press("New poll");
    expect(document.activeElement).toBe(pollField<HTMLTextAreaElement>("Question"));
    expect(pollField<HTMLTextAreaElement>("Question").value).toBe("");
    typeInto(pollField<HTMLTextAreaElement>("Question"), "And now?");
    typeInto(pollField("Answer 1"), "Yes");
    typeInto(pollField("Answer 2"), "No");
    press("Start poll");
    expect(pollSent(sock)).toEqual([{ type: "start_poll", question: "And now?", options: ["Yes", "No"], multiple: false }]);
    act(() => sock.receive({ type: "poll", poll: { ...QUIZ, id: 2, by: 1, question: "And now?", options: ["Yes", "No"], results: [0, 0] } }));
    expect(pollPanel()?.querySelector(".poll-question")?.textContent).toBe("And now?");
    expect(results()).toEqual(["Yes 0 (0%)", "No 0 (0%)"]);
  });

  it("refuses a poll without a question, with one answer or too long, and shows the server's refusal", async () => {
    const { sock } = await enter({}, kari("co_host"));
    press("Poll");
    sock.sent = [];
    const error = root.querySelector("#poll-form-error")!;
    expect(error.getAttribute("role")).toBe("alert");

    typeInto(pollField("Answer 1"), "A");
    typeInto(pollField("Answer 2"), "B");
    typeInto(pollField<HTMLTextAreaElement>("Question"), "   ");
    press("Start poll");
    expect(error.textContent).toBe("Write a question.");
    expect(pollField<HTMLTextAreaElement>("Question").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(pollField<HTMLTextAreaElement>("Question"));

    typeInto(pollField<HTMLTextAreaElement>("Question"), "Which one?");
    typeInto(pollField("Answer 2"), "  ");
    press("Start poll");
    expect(error.textContent).toBe("Write at least two answers.");
    expect(pollField("Answer 2").getAttribute("aria-invalid")).toBe("true");

    typeInto(pollField("Answer 2"), "x".repeat(101));
    press("Start poll");
    expect(error.textContent).toBe("Answer 2 is too long: at most 100 characters.");
    typeInto(pollField("Answer 2"), "B");
    typeInto(pollField<HTMLTextAreaElement>("Question"), "?".repeat(301));
    press("Start poll");
    expect(error.textContent).toBe("The question is too long: at most 300 characters.");
    expect(pollSent(sock)).toEqual([]);

    // 300 characters, counted as the server counts them (an emoji is one), pass.
    typeInto(pollField<HTMLTextAreaElement>("Question"), "🙂".repeat(300));
    press("Start poll");
    expect(pollSent(sock)).toEqual([{ type: "start_poll", question: "🙂".repeat(300), options: ["A", "B"], multiple: false }]);
    expect(error.textContent).toBe("");
    act(() => sock.receive({ type: "error", code: "invalid_argument", message: "the question has words the server refuses" }));
    expect(error.textContent).toBe("The poll was not started: the question has words the server refuses");
    expect(notices(), "said in the form, not again as a notice").toEqual([]);
    // The form keeps what was typed, to be fixed.
    expect(pollField("Answer 1").value).toBe("A");
  });

  it("is for hosts and co-hosts to start: participants have no Poll button until a poll exists", async () => {
    const { sock } = await enter({}, kari("participant"));
    expect([...root.querySelectorAll(".controls button")].some((b) => b.textContent === "Poll")).toBe(false);
    act(() => sock.receive({ type: "poll", poll: QUIZ }));
    expect([...root.querySelectorAll(".controls button")].some((b) => b.textContent === "Poll")).toBe(true);
  });
});

describe("app: a participant's poll", () => {
  it("tells of a new poll, takes an answer, lets it change, and shows the results only once shared", async () => {
    const { sock } = await enter({}, kari("participant"));
    act(() => sock.receive({ type: "poll", poll: QUIZ }));
    const notice = [...root.querySelectorAll(".notices li")].find((li) => li.textContent?.includes("Lærer started a poll."))!;
    expect(notice).toBeDefined();
    press("Answer", notice);
    expect(pollPanel()).not.toBeNull();
    expect(notices().some((n) => n.includes("started a poll")), "the panel shows it now").toBe(false);

    const group = pollPanel()!.querySelector("fieldset")!;
    expect(group.querySelector("legend")?.textContent).toBe("Which answer is right?");
    const choice = (label: string) => [...group.querySelectorAll("label")].find((l) => l.textContent?.trim() === label)!.querySelector("input")!;
    expect(choice("A").type).toBe("radio");
    expect(root.querySelector(".poll-results"), "results are for the hosts").toBeNull();

    sock.sent = [];
    press("Send answer");
    expect(pollSent(sock), "nothing picked, nothing sent").toEqual([]);
    act(() => choice("A").click());
    act(() => choice("B").click());
    expect([choice("A").checked, choice("B").checked]).toEqual([false, true]);
    press("Send answer");
    expect(pollSent(sock)).toEqual([{ type: "vote", poll: 1, choices: [1] }]);
    act(() => sock.receive({ type: "poll", poll: { ...QUIZ, mine: [1] } }));
    expect(root.querySelector('.poll [role="status"]')?.textContent).toBe("Your answer is in. You can change it until the poll ends.");
    expect(choice("B").checked).toBe(true);

    // Changed before the end.
    sock.sent = [];
    act(() => choice("C").click());
    press("Send answer");
    expect(pollSent(sock)).toEqual([{ type: "vote", poll: 1, choices: [2] }]);
    act(() => sock.receive({ type: "poll", poll: { ...QUIZ, mine: [2] } }));

    act(() => sock.receive({ type: "poll", poll: { ...QUIZ, mine: [2], open: false } }));
    expect(root.textContent).toContain("The poll has ended.");
    expect(root.textContent).toContain("You answered: C");
    expect(root.textContent).toContain("The host has not shared the results.");
    expect(root.querySelector(".poll fieldset"), "no more answers").toBeNull();
    expect(root.querySelector(".poll-results")).toBeNull();

    // Shared while the panel is closed: told, and shown on Show.
    press("Poll");
    expect(pollPanel()).toBeNull();
    act(() => sock.receive({ type: "poll", poll: { ...QUIZ, mine: [2], open: false, shared: true, answered: 20, results: [12, 3, 5] } }));
    const sharedNotice = [...root.querySelectorAll(".notices li")].find((li) => li.textContent?.includes("Poll results are shared."))!;
    press("Show", sharedNotice);
    expect(results()).toEqual(["A 12 (60%)", "B 3 (15%)", "C (your answer) 5 (25%)"]);
    expect(root.textContent).toContain("20 answered");
  });

  it("answers with several choices when the poll allows it", async () => {
    const { sock } = await enter({}, kari("participant"));
    act(() => sock.receive({ type: "poll", poll: { ...QUIZ, multiple: true } }));
    press("Poll");
    const group = pollPanel()!.querySelector("fieldset")!;
    expect(group.getAttribute("aria-describedby")).toBe("poll-choose-many");
    expect(root.querySelector("#poll-choose-many")?.textContent).toBe("You may choose more than one answer.");
    const boxes = [...group.querySelectorAll("input")];
    expect(boxes.map((b) => b.type)).toEqual(["checkbox", "checkbox", "checkbox"]);
    sock.sent = [];
    act(() => boxes[2]!.click());
    act(() => boxes[0]!.click());
    act(() => boxes[1]!.click());
    act(() => boxes[1]!.click());
    press("Send answer");
    expect(pollSent(sock)).toEqual([{ type: "vote", poll: 1, choices: [0, 2] }]);
  });

  it("shows a newer poll in place of the older one, with nothing picked", async () => {
    const { sock } = await enter({}, kari("participant"));
    act(() => sock.receive({ type: "poll", poll: { ...QUIZ, mine: [0], open: false, shared: true, answered: 1, results: [1, 0, 0] } }));
    press("Poll");
    expect(results()).toHaveLength(3);
    act(() => sock.receive({ type: "poll", poll: { ...QUIZ, id: 2, question: "And the next one?", options: ["Yes", "No"] } }));
    const group = pollPanel()!.querySelector("fieldset")!;
    expect(group.querySelector("legend")?.textContent).toBe("And the next one?");
    expect([...group.querySelectorAll("input")].map((b) => b.checked)).toEqual([false, false]);
    expect(root.querySelector(".poll-results"), "the old results went with the old poll").toBeNull();
    expect(root.querySelector('.poll [role="status"]')?.textContent).toBe("");
    // A late word about the older poll changes nothing.
    act(() => sock.receive({ type: "poll", poll: { ...QUIZ, open: false, shared: true, answered: 2, results: [1, 1, 0] } }));
    expect(group.querySelector("legend")?.textContent).toBe("And the next one?");
    sock.sent = [];
    act(() => group.querySelector("input")!.click());
    press("Send answer");
    expect(pollSent(sock)).toEqual([{ type: "vote", poll: 2, choices: [0] }]);
  });
});
