import { render } from "preact";
import { act } from "preact/test-utils";
import { describe, expect, it, vi } from "vitest";
import { I18nContext, translator, type Lang } from "../i18n";
import { NullMediaBackend } from "../media/browser";
import type { MediaDeviceOption } from "../media/backend";
import { DevicesMenu } from "./DevicesMenu";
import { choose, root, useDomRoot } from "../test/dom-root";

useDomRoot();

/** A backend that switches devices in place, as both real ones do; `refuse` fails one id. */
class SwitchingBackend extends NullMediaBackend {
  refuse = "";
  setInputDevice = vi.fn(async (id: string) => {
    if (id === this.refuse) throw new Error("busy");
    this.local = { ...this.local, inputId: id };
  });
  setOutputDevice = vi.fn(async (id: string) => {
    if (id === this.refuse) throw new Error("busy");
    this.local = { ...this.local, outputId: id };
  });
  setCameraDevice = vi.fn(async (id: string) => {
    if (id === this.refuse) throw new Error("not the track's size");
    this.local = { ...this.local, cameraId: id };
  });
  canChooseOutput = () => true;
}

const devices: MediaDeviceOption[] = [
  { id: "default", kind: "audioinput", label: "Standard" },
  { id: "mic-1", kind: "audioinput", label: "Innebygd mikrofon" },
  { id: "mic-2", kind: "audioinput", label: "Hodesett" },
  { id: "spk-1", kind: "audiooutput", label: "Høyttalere" },
  { id: "spk-2", kind: "audiooutput", label: "Hodesett" },
  { id: "cam-1", kind: "videoinput", label: "Innebygd kamera" },
  { id: "cam-2", kind: "videoinput", label: "USB-kamera" },
];

function mount(media: NullMediaBackend, lang: Lang = "nb") {
  act(() => {
    render(
      <I18nContext.Provider value={{ lang, t: translator(lang) }}>
        <DevicesMenu media={media} devices={devices} />
      </I18nContext.Provider>,
      root,
    );
  });
}

describe("the meeting's devices menu", () => {
  it("lists the microphones and speakers and switches to the one picked", async () => {
    const media = new SwitchingBackend();
    mount(media);
    expect(root.querySelector("summary")?.textContent).toBe("Enheter");
    const options = (select: string) => [...root.querySelectorAll(`${select} option`)].map((o) => o.textContent);
    expect(options("#meeting-mic")).toEqual(["Standard", "Innebygd mikrofon", "Hodesett"]);
    expect(options("#meeting-speaker")).toEqual(["Standard", "Høyttalere", "Hodesett"]);
    await choose("#meeting-mic", "mic-2");
    expect(media.setInputDevice).toHaveBeenCalledWith("mic-2");
    await choose("#meeting-speaker", "spk-2");
    expect(media.setOutputDevice).toHaveBeenCalledWith("spk-2");
    expect(options("#meeting-camera")).toEqual(["Standard", "Innebygd kamera", "USB-kamera"]);
    await choose("#meeting-camera", "cam-2");
    expect(media.setCameraDevice).toHaveBeenCalledWith("cam-2");
    expect(root.querySelector('[role="alert"]')).toBeNull();
  });

  it("offers no camera picker to someone in the meeting without a camera", () => {
    const media = new SwitchingBackend();
    media.local = { ...media.local, hasCamera: false };
    mount(media, "en");
    expect(root.querySelector("#meeting-camera")).toBeNull();
    expect(root.querySelector("#meeting-mic")).not.toBeNull();
  });

  it("says so when a device does not open, and shows the one still in use", async () => {
    const media = new SwitchingBackend();
    media.local = { ...media.local, inputId: "mic-1" };
    media.refuse = "mic-2";
    mount(media, "nn");
    await choose("#meeting-mic", "mic-2");
    await act(async () => {});
    expect(root.querySelector('[role="alert"]')?.textContent).toBe("Den eininga kunne ikkje opnast. Den førre er framleis i bruk.");
    // Re-rendered from the backend's state, the picker shows the microphone still in use.
    mount(media, "nn");
    expect((root.querySelector("#meeting-mic") as HTMLSelectElement).value).toBe("mic-1");
  });

  it("is not offered by a backend that cannot switch devices", () => {
    mount(new NullMediaBackend(), "en");
    expect(root.querySelector("details.devices-menu")).toBeNull();
  });
});
