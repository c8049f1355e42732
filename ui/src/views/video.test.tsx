// The desktop app's own video in the views: the share picker and the self-view tile.

import { render } from "preact";
import { act } from "preact/test-utils";
import { describe, expect, it, vi } from "vitest";
import { I18nContext, translator, type Lang } from "../i18n";
import { ScreenShareError, type ShareTarget, type VideoSource } from "../media/backend";
import { NullMediaBackend } from "../media/browser";
import type { MeetingState, ParticipantInfo } from "../protocol/messages";
import { initialView, reduce } from "../state/store";
import type { MeetingActions } from "./actions";
import { Meeting } from "./Meeting";
import { ShareDialog } from "./ShareDialog";
import { Tile } from "./Tile";
import type { ComponentChildren } from "preact";
import { root, useDomRoot } from "../test/dom-root";
import { meetingState, participant } from "../test/fixtures";

useDomRoot();

function mount(lang: Lang, children: ComponentChildren) {
  act(() => {
    render(<I18nContext.Provider value={{ lang, t: translator(lang) }}>{children}</I18nContext.Provider>, root);
  });
}

/** Lets resolved promises' callbacks run and re-render. */
async function settle() {
  await act(async () => {
    await new Promise((r) => setTimeout(r, 0));
  });
}

const TARGETS: ShareTarget[] = [
  { kind: "screen", id: "root", name: "All screens (1280x800)", whole: true },
  { kind: "window", id: "0x400001", name: "Lysark – forelesning 3", whole: false },
  { kind: "window", id: "0x600002", name: "Terminal", whole: false },
];

const person = (id: number, name: string): ParticipantInfo => participant(id, name, { video_on: true });
const meeting: MeetingState = meetingState({ topic: "T" });

function fakeActions(): MeetingActions {
  return new Proxy({} as MeetingActions, { get: () => vi.fn(() => true) });
}

describe("share picker", () => {
  it("lists screens and windows by title, and shares the window chosen", async () => {
    const onChoose = vi.fn();
    mount("en", <ShareDialog list={() => Promise.resolve(TARGETS)} onChoose={onChoose} onCancel={() => {}} />);
    const dialog = root.querySelector('[role="dialog"]')!;
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(root.querySelector("#" + dialog.getAttribute("aria-labelledby"))?.textContent).toBe("What do you want to share?");
    expect(root.textContent).toContain("Looking for screens and windows");
    await settle();

    const legends = [...root.querySelectorAll("legend")].map((l) => l.textContent);
    expect(legends).toEqual(["Screens", "Windows"]);
    const labels = [...root.querySelectorAll("label")].map((l) => l.textContent);
    expect(labels).toEqual(["The whole screen", "Lysark – forelesning 3", "Terminal"]);
    // Every choice is a labelled radio button in one group; the whole screen is chosen first
    // and has the focus.
    const radios = [...root.querySelectorAll<HTMLInputElement>("input[type=radio]")];
    expect(radios.map((r) => root.querySelector(`label[for="${r.id}"]`)?.textContent)).toEqual(labels);
    expect(radios[0]!.checked).toBe(true);
    expect(document.activeElement).toBe(radios[0]);

    act(() => radios[1]!.click());
    const share = [...root.querySelectorAll("button")].find((b) => b.textContent === "Share")!;
    act(() => share.click());
    expect(onChoose).toHaveBeenCalledWith(TARGETS[1]);
  });

  it("shares with Enter on a choice and closes with Escape", async () => {
    const onChoose = vi.fn();
    const onCancel = vi.fn();
    mount("nb", <ShareDialog list={() => Promise.resolve(TARGETS)} onChoose={onChoose} onCancel={onCancel} />);
    await settle();
    expect([...root.querySelectorAll("legend")].map((l) => l.textContent)).toEqual(["Skjermer", "Vinduer"]);
    const terminal = root.querySelector<HTMLInputElement>('input[value="window:0x600002"]')!;
    act(() => {
      terminal.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    });
    expect(onChoose).toHaveBeenCalledWith(TARGETS[2]);
    act(() => {
      terminal.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    });
    expect(onCancel).toHaveBeenCalled();
  });

  it("in a Wayland session offers the system's own dialog for a screen or a window", async () => {
    const onChoose = vi.fn();
    const bySystem: ShareTarget[] = [
      { kind: "screen", id: "portal", name: "Choose a screen in the system's sharing dialog", whole: false, system_dialog: true },
      { kind: "window", id: "portal", name: "Choose a window in the system's sharing dialog", whole: false, system_dialog: true },
    ];
    mount("nn", <ShareDialog list={() => Promise.resolve(bySystem)} onChoose={onChoose} onCancel={() => {}} />);
    await settle();
    const labels = [...root.querySelectorAll("label")].map((l) => l.textContent);
    expect(labels).toEqual(["Vel skjerm i delingsvindauget til systemet", "Vel vindauge i delingsvindauget til systemet"]);
    const window = root.querySelector<HTMLInputElement>('input[value="window:portal"]')!;
    act(() => window.click());
    const share = [...root.querySelectorAll("button")].find((b) => b.textContent === "Del")!;
    act(() => share.click());
    expect(onChoose).toHaveBeenCalledWith(bySystem[1]);
  });

  it("says when there are no windows, and when listing failed", async () => {
    mount("nn", <ShareDialog list={() => Promise.resolve(TARGETS.slice(0, 1))} onChoose={() => {}} onCancel={() => {}} />);
    await settle();
    expect(root.textContent).toContain("Ingen vindauge å dele.");
    act(() => render(null, root));
    mount("en", <ShareDialog list={() => Promise.reject(new Error("no display"))} onChoose={() => {}} onCancel={() => {}} />);
    await settle();
    expect(root.querySelector('[role="alert"]')?.textContent).toBe("Could not share the screen: no display");
    expect(root.querySelector("input[type=radio]")).toBeNull();
    act(() => render(null, root));
    mount("nb", <ShareDialog list={() => Promise.reject(new ScreenShareError("no_display", "DISPLAY"))} onChoose={() => {}} onCancel={() => {}} />);
    await settle();
    expect(root.querySelector('[role="alert"]')?.textContent).toBe("Fant ingen skjerm å dele (DISPLAY er ikke satt).");
  });

  it("opens from the meeting's share button where the backend lists targets, and shares the choice", async () => {
    const media = new NullMediaBackend();
    const listed = Object.assign(media, { listShareTargets: () => Promise.resolve(TARGETS) });
    const start = vi.spyOn(listed, "startScreenShare");
    const view = reduce(initialView, {
      type: "joined", you: 1, role: "host", resume_token: "t",
      meeting,
      participants: [person(1, "Kari")], waiting: [], chat: [],
    });
    mount("en", <Meeting view={view} media={listed} actions={fakeActions()} dispatch={() => {}} onLeave={() => {}} reconnecting={false} />);
    const shareButton = [...root.querySelectorAll("button")].find((b) => b.textContent === "Share screen")!;
    expect(shareButton.getAttribute("aria-haspopup")).toBe("dialog");
    act(() => shareButton.click());
    await settle();
    expect(root.querySelector('[role="dialog"]')).not.toBeNull();
    act(() => root.querySelector<HTMLInputElement>('input[value="window:0x400001"]')!.click());
    act(() => [...root.querySelectorAll("button")].find((b) => b.textContent === "Share")!.click());
    expect(start).toHaveBeenCalledWith(TARGETS[1]);
    await settle();
    expect(root.querySelector('[role="dialog"]')).toBeNull();
  });
});

describe("self view", () => {
  /** A backend whose camera is on, recording what the tile asks it to draw. */
  function cameraOn() {
    const drawn: VideoSource[] = [];
    const media = Object.assign(new NullMediaBackend(), {
      hasVideo: (s: VideoSource) => s.kind === "local-camera",
      attachVideo: (box: HTMLElement, s: VideoSource) => {
        drawn.push(s);
        const canvas = document.createElement("canvas");
        canvas.className = "frames self-view";
        box.append(canvas);
        return () => canvas.remove();
      },
    });
    return { media, drawn };
  }

  it("draws our own camera in a mirrored tile named as us, in each language", () => {
    const { media, drawn } = cameraOn();
    const tile = (lang: Lang) =>
      mount(lang, (
        <Tile participant={person(1, "Kari")} source={{ kind: "local-camera" }} isSelf speaking={false} videoOn media={media} actions={fakeActions()} />
      ));
    tile("en");
    const figure = root.querySelector("figure.tile")!;
    expect(figure.classList.contains("self")).toBe(true);
    expect(figure.getAttribute("aria-label")).toBe("Kari (you)");
    expect(figure.querySelector("canvas.self-view")).not.toBeNull();
    expect(figure.querySelector(".avatar")).toBeNull();
    expect(drawn).toEqual([{ kind: "local-camera" }]);
    tile("nb");
    expect(root.querySelector("figcaption .name")?.textContent).toBe("Kari (deg)");
    tile("nn");
    expect(root.querySelector("figcaption .name")?.textContent).toBe("Kari (deg)");
  });

  it("shows our initials instead when the camera is off", () => {
    const { media, drawn } = cameraOn();
    mount("en", (
      <Tile participant={person(1, "Kari Nordmann")} source={{ kind: "local-camera" }} isSelf speaking={false} videoOn={false} media={media} actions={fakeActions()} />
    ));
    expect(root.querySelector(".avatar")?.textContent).toBe("KN");
    expect(root.querySelector("canvas")).toBeNull();
    expect(drawn).toEqual([]);
  });

  it("is in the meeting's gallery as our own tile, and the camera message says why when there is none", () => {
    const { media } = cameraOn();
    media.local = { ...media.local, cameraOn: true, hasCamera: true };
    const view = reduce(initialView, {
      type: "joined", you: 1, role: "host", resume_token: "t",
      meeting,
      participants: [person(1, "Kari"), person(2, "Per")], waiting: [], chat: [],
    });
    mount("en", <Meeting view={view} media={media} actions={fakeActions()} dispatch={() => {}} onLeave={() => {}} reconnecting={false} />);
    const self = root.querySelector("figure.tile.self")!;
    expect(self.getAttribute("aria-label")).toBe("Kari (you)");
    expect(self.querySelector("canvas.self-view")).not.toBeNull();

    const none = new NullMediaBackend();
    none.local = { ...none.local, hasCamera: false, cameraOn: false, deviceError: "camera_missing" };
    mount("nb", <Meeting view={view} media={none} actions={fakeActions()} dispatch={() => {}} onLeave={() => {}} reconnecting={false} />);
    expect(root.querySelector(".bar .status")?.textContent).toBe("Fant ikke noe kamera. Du er med uten bilde.");
    expect(root.querySelector("figure.tile.self .avatar")).not.toBeNull();
    none.local = { ...none.local, deviceError: "camera_busy" };
    mount("en", <Meeting view={view} media={none} actions={fakeActions()} dispatch={() => {}} onLeave={() => {}} reconnecting={false} />);
    expect(root.querySelector(".bar .status")?.textContent).toContain("in use by another program");
  });
});
