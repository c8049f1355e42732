import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";
import { I18nContext, translator, type Lang } from "../i18n";
import { NullMediaBackend } from "../media/browser";
import { levelFromSamples, smoothLevel } from "../media/level";
import type { MediaDeviceOption } from "../media/backend";
import { METER_INTERVAL_MS, MicMeter, PreJoin, SpeakerTest } from "./PreJoin";
import type { ComponentChildren } from "preact";
import { choose, root, useDomRoot } from "../test/dom-root";

useDomRoot();
afterEach(() => {
  vi.useRealTimers();
});

function mount(lang: Lang, children: ComponentChildren) {
  act(() => {
    render(<I18nContext.Provider value={{ lang, t: translator(lang) }}>{children}</I18nContext.Provider>, root);
  });
}

/** A backend with the optional pre-join checks, driven by the test. */
class CheckingBackend extends NullMediaBackend {
  level = 0;
  micLevel = vi.fn(() => this.level);
  pending: { resolve: () => void; reject: (e: Error) => void } | null = null;
  playTestSound = vi.fn(
    (_outputId?: string) =>
      new Promise<void>((resolve, reject) => {
        this.pending = { resolve, reject };
      }),
  );
  canChooseOutput = vi.fn(() => true);
  setOutputDevice = vi.fn(async (_id: string) => {});
  setInputDevice?: (id: string) => Promise<void>;
  setCameraDevice?: (id: string) => Promise<void>;
}

const meter = () => root.querySelector('[role="meter"]')!;
const tick = (ms = METER_INTERVAL_MS) => act(() => void vi.advanceTimersByTime(ms));

describe("microphone level", () => {
  it("maps loudness in dBFS onto the meter", () => {
    expect(levelFromSamples(new Float32Array(480))).toBe(0);
    expect(levelFromSamples([])).toBe(0);
    expect(levelFromSamples(new Float32Array(480).fill(1))).toBe(1);
    // -30 dBFS is half-way between the -60 dB floor and full scale.
    expect(levelFromSamples(new Float32Array(480).fill(10 ** (-30 / 20)))).toBeCloseTo(0.5, 5);
    expect(levelFromSamples(new Float32Array(480).fill(1e-4))).toBe(0); // -80 dB: below the floor
    const sine = Array.from({ length: 480 }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / 48000));
    expect(levelFromSamples(sine)).toBeCloseTo(1 - 3.01 / 60, 2);
  });

  it("rises at once and falls back slowly", () => {
    expect(smoothLevel(0.1, 0.8)).toBe(0.8);
    expect(smoothLevel(0.8, 0)).toBeCloseTo(0.65);
    expect(smoothLevel(0.1, 0)).toBe(0);
  });

  it("the meter follows the backend's level while the microphone is on", () => {
    vi.useFakeTimers();
    const media = new CheckingBackend();
    mount("nb", <MicMeter media={media} on={true} />);
    expect(root.textContent).toContain("Mikrofonnivå");
    expect(meter().getAttribute("aria-valuenow")).toBe("0");
    media.level = 0.5;
    tick();
    expect(meter().getAttribute("aria-valuenow")).toBe("50");
    expect(meter().getAttribute("aria-valuetext")).toBe("50 %");
    expect((meter().querySelector(".fill") as HTMLElement).style.width).toBe("50%");
    media.level = 0;
    tick();
    expect(meter().getAttribute("aria-valuenow")).toBe("35"); // falling back, not dropping
    tick(METER_INTERVAL_MS * 5);
    expect(meter().getAttribute("aria-valuenow")).toBe("0");
  });

  it("the meter says the microphone is off, and stops reading it, when it is off", () => {
    vi.useFakeTimers();
    const media = new CheckingBackend();
    media.level = 0.9;
    mount("en", <MicMeter media={media} on={false} />);
    tick(METER_INTERVAL_MS * 3);
    expect(media.micLevel).not.toHaveBeenCalled();
    expect(meter().getAttribute("aria-valuenow")).toBe("0");
    expect(meter().getAttribute("aria-valuetext")).toBe("The microphone is off");
    // No microphone at all (access denied) reads as off too.
    const denied = new CheckingBackend();
    denied.local = { ...denied.local, hasMic: false };
    mount("nn", <MicMeter media={denied} on={true} />);
    tick(METER_INTERVAL_MS * 3);
    expect(denied.micLevel).not.toHaveBeenCalled();
    expect(meter().getAttribute("aria-valuetext")).toBe("Mikrofonen er av");
  });
});

describe("speaker test", () => {
  it("plays the tone through the chosen output and asks whether it was heard", async () => {
    const media = new CheckingBackend();
    mount("nb", <SpeakerTest media={media} outputId="spk-2" />);
    const button = root.querySelector("#test-speaker") as HTMLButtonElement;
    expect(button.textContent).toBe("Test høyttaleren");
    act(() => button.click());
    expect(media.playTestSound).toHaveBeenCalledWith("spk-2");
    expect(button.disabled).toBe(true);
    expect(root.textContent).toContain("Spiller av en testtone …");
    await act(async () => media.pending!.resolve());
    expect(button.disabled).toBe(false);
    expect(root.textContent).toContain("Hørte du tonen?");
  });

  it("says so when the tone cannot be played", async () => {
    const media = new CheckingBackend();
    mount("en", <SpeakerTest media={media} outputId="" />);
    act(() => (root.querySelector("#test-speaker") as HTMLButtonElement).click());
    expect(media.playTestSound).toHaveBeenCalledWith(undefined); // the default output
    await act(async () => media.pending!.reject(new Error("NotAllowedError")));
    expect(root.querySelector(".speaker-test .error")?.textContent).toBe("Could not play the test tone.");
  });
});

describe("pre-join checks", () => {
  const devices: MediaDeviceOption[] = [
    { id: "mic-1", kind: "audioinput", label: "USB-mikrofon" },
    { id: "mic-2", kind: "audioinput", label: "Hodesett" },
    { id: "cam-1", kind: "videoinput", label: "Webkamera" },
    { id: "default", kind: "audiooutput", label: "Standard – Høyttalere" },
    { id: "spk-1", kind: "audiooutput", label: "Høyttalere" },
    { id: "spk-2", kind: "audiooutput", label: "Hodetelefoner" },
  ];
  const prejoin = (media: NullMediaBackend, lang: Lang = "nb") =>
    mount(lang, <PreJoin meetingId="123456789" initialName="Kari" error={null} busy={false} devices={devices} media={media} onJoin={() => {}} />);

  it("shows the meter, the speaker test and an output picker beside the other pickers", async () => {
    const media = new CheckingBackend();
    prejoin(media);
    expect(root.querySelector('[role="meter"]')).not.toBeNull();
    expect(root.querySelector("#test-speaker")).not.toBeNull();
    expect(root.querySelector("details.devices summary")?.textContent).toBe("Mikrofon / Kamera / Høyttaler");
    const out = root.querySelector("#speaker-device") as HTMLSelectElement;
    expect(root.querySelector('label[for="speaker-device"]')?.textContent).toBe("Høyttaler");
    // "Default" once (the browser's own "default" entry is the same device).
    expect([...out.options].map((o) => o.textContent)).toEqual(["Standard", "Høyttalere", "Hodetelefoner"]);
    await choose("#speaker-device", "spk-2");
    expect(media.setOutputDevice).toHaveBeenCalledWith("spk-2");
    act(() => (root.querySelector("#test-speaker") as HTMLButtonElement).click());
    expect(media.playTestSound).toHaveBeenCalledWith("spk-2");
  });

  it("a speaker that does not open goes back to the one before, and says so", async () => {
    const media = new CheckingBackend();
    media.setOutputDevice.mockImplementation(async (id: string) => {
      if (id === "spk-2") throw new Error("busy");
    });
    prejoin(media, "en");
    const out = root.querySelector("#speaker-device") as HTMLSelectElement;
    await choose("#speaker-device", "spk-1");
    expect(root.querySelector('[role="alert"]')).toBeNull();
    await choose("#speaker-device", "spk-2");
    await act(async () => {});
    expect(out.value).toBe("spk-1");
    expect(root.querySelector('[role="alert"]')?.textContent).toBe("That speaker could not be opened. Sound still plays where it did before.");
    act(() => (root.querySelector("#test-speaker") as HTMLButtonElement).click());
    expect(media.playTestSound).toHaveBeenCalledWith("spk-1");
  });

  it("switches to another microphone in place where the backend can, and says so when it does not open", async () => {
    const media = new CheckingBackend();
    const reopened = vi.fn();
    media.setInputDevice = vi.fn(async (id: string) => {
      if (id === "mic-2") throw new Error("busy");
    });
    mount("en", <PreJoin meetingId="123456789" initialName="Kari" error={null} busy={false} devices={devices} media={media} onDevices={reopened} onJoin={() => {}} />);
    const mic = root.querySelector("#mic-device") as HTMLSelectElement;
    await choose("#mic-device", "mic-1");
    expect(media.setInputDevice).toHaveBeenCalledWith("mic-1");
    expect(reopened).not.toHaveBeenCalled();
    await choose("#mic-device", "mic-2");
    await act(async () => {});
    expect(mic.value).toBe("mic-1");
    expect(root.querySelector('[role="alert"]')?.textContent).toBe("That device could not be opened. The one before is still in use.");
  });

  it("switches to another camera in place while one is open, and opens the devices again where none was", async () => {
    const media = new CheckingBackend();
    const reopened = vi.fn();
    media.setCameraDevice = vi.fn(async (_id: string) => {});
    const view = () =>
      mount("en", <PreJoin meetingId="123456789" initialName="Kari" error={null} busy={false} devices={devices} media={media} onDevices={reopened} onJoin={() => {}} />);
    view();
    await choose("#cam-device", "cam-1");
    expect(media.setCameraDevice).toHaveBeenCalledWith("cam-1");
    expect(reopened).not.toHaveBeenCalled();
    // No camera opened at first: nothing to switch, so the devices open again with it.
    media.local = { ...media.local, hasCamera: false };
    view();
    await choose("#cam-device", "");
    expect(reopened).toHaveBeenCalledWith(expect.objectContaining({ videoInput: undefined }));
  });

  it("turning the microphone off before joining empties the meter", () => {
    vi.useFakeTimers();
    const media = new CheckingBackend();
    media.level = 1;
    prejoin(media, "en");
    tick();
    expect(meter().getAttribute("aria-valuenow")).toBe("100");
    const micBox = [...root.querySelectorAll("label.check")].find((l) => l.textContent === "Microphone on")!.querySelector("input")!;
    act(() => micBox.click());
    expect(meter().getAttribute("aria-valuenow")).toBe("0");
    expect(meter().getAttribute("aria-valuetext")).toBe("The microphone is off");
  });

  it("without setSinkId, says the default speaker plays the sound instead of offering a picker", () => {
    const media = new CheckingBackend();
    media.canChooseOutput.mockReturnValue(false);
    prejoin(media, "nn");
    expect(root.querySelector("#speaker-device")).toBeNull();
    expect(root.textContent).toContain("Lyden vert spelt av på standardhøgtalaren til systemet.");
    expect(root.querySelector("#test-speaker")?.textContent).toBe("Test høgtalaren");
  });

  it("a backend without the checks shows neither", () => {
    prejoin(new NullMediaBackend(), "en");
    expect(root.querySelector('[role="meter"]')).toBeNull();
    expect(root.querySelector("#test-speaker")).toBeNull();
    expect(root.querySelector("#speaker-device")).toBeNull();
  });
});
