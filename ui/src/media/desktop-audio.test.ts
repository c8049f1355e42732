import { describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn(() => Promise.resolve(() => {})) }));

const { DesktopMediaBackend } = await import("./desktop");
type Feed = ConstructorParameters<typeof DesktopMediaBackend>[2];
type Client = ConstructorParameters<typeof DesktopMediaBackend>[0];

/** A backend whose app answers `media_start` with `sources` and lists `microphones`. */
function backend(sources: object, microphones: { id: string; name: string }[] = []) {
  invoke.mockReset();
  invoke.mockImplementation((cmd: string) =>
    Promise.resolve(cmd === "media_start" ? sources : cmd === "microphone_list" ? microphones : cmd.endsWith("_list") ? [] : undefined),
  );
  const feed = { connect() {}, reset() {}, onNewTrack: () => () => {}, has: () => false, onFrame: () => () => {} } as unknown as Feed;
  const client = { onMessage: () => () => {}, send() {} } as unknown as Client;
  return new DesktopMediaBackend(client, "127.0.0.1:1", feed);
}

describe("the app's microphone and speaker", () => {
  const base = { camera: false, microphone: false, synthetic: false };

  it("opens the picked microphone, and mutes it in the app", async () => {
    const media = backend({ ...base, microphone: true });
    await media.openDevices({ mic: true, camera: false, devices: { audioInput: "hw:1,0" } });
    expect(invoke).toHaveBeenCalledWith(
      "media_start",
      expect.objectContaining({ microphone: true, audioDevices: { microphone: "hw:1,0", speaker: null } }),
    );
    expect(media.local).toMatchObject({ hasMic: true, micMuted: false, deviceError: null, speakerError: null });
    media.setMicMuted(true);
    expect(media.local.micMuted).toBe(true);
    await vi.waitFor(() => expect(invoke).toHaveBeenCalledWith("microphone_set", { on: false }));
    media.setMicMuted(false);
    await vi.waitFor(() => expect(invoke).toHaveBeenCalledWith("microphone_set", { on: true }));
  });

  it("says why without a microphone or a speaker, and goes on without them", async () => {
    const media = backend({
      ...base,
      microphone_error: { reason: "missing", detail: "no microphone found" },
      speaker_error: { reason: "missing", detail: "no speaker found" },
    });
    await media.openDevices({ mic: true, camera: false });
    expect(media.local).toMatchObject({ hasMic: false, micMuted: true, deviceError: "microphone_missing" });
    expect(media.local.speakerError).toContain("no speaker");
    // There is nothing to unmute.
    media.setMicMuted(false);
    expect(invoke).not.toHaveBeenCalledWith("microphone_set", expect.anything());
  });

  it("offers the app's microphones in the picker", async () => {
    const media = backend(base, [{ id: "hw:1,0", name: "USB Headset" }]);
    expect(await media.listDevices()).toContainEqual({ id: "hw:1,0", kind: "audioinput", label: "USB Headset" });
  });

  it("reads the microphone's level from the app for the meter, and nothing without a microphone", async () => {
    const media = backend({ ...base, microphone: true });
    invoke.mockImplementation((cmd: string) =>
      Promise.resolve(cmd === "media_start" ? { ...base, microphone: true } : cmd === "microphone_level" ? 0.1 : undefined),
    );
    await media.openDevices({ mic: true, camera: false });
    media.micLevel();
    // -20 dBFS on a meter from -60 to 0 dBFS.
    await vi.waitFor(() => expect(media.micLevel()).toBeCloseTo(2 / 3, 5));
    const without = backend({ ...base, microphone_error: { reason: "missing", detail: "no microphone found" } });
    await without.openDevices({ mic: true, camera: false });
    expect(without.micLevel()).toBe(0);
  });

  it("offers the app's speakers, and switches the one playing without opening the devices again", async () => {
    const media = backend({ ...base, microphone: true });
    invoke.mockImplementation((cmd: string, args?: { device?: string | null }) =>
      cmd === "speaker_use" && args?.device === "hw:9,0"
        ? Promise.reject({ reason: "missing", detail: "no speaker hw:9,0" })
        : Promise.resolve(
            cmd === "media_start" ? { ...base, microphone: true } : cmd === "speaker_list" ? [{ id: "pipewire", name: "PipeWire" }] : cmd.endsWith("_list") ? [] : undefined,
          ),
    );
    expect(await media.listDevices()).toContainEqual({ id: "pipewire", kind: "audiooutput", label: "PipeWire" });
    expect(media.canChooseOutput()).toBe(true);
    await media.openDevices({ mic: true, camera: false });
    await media.setOutputDevice("pipewire");
    expect(invoke).toHaveBeenLastCalledWith("speaker_use", { device: "pipewire" });
    expect(invoke.mock.calls.filter(([cmd]) => cmd === "media_start")).toHaveLength(1);
    await media.playTestSound();
    expect(invoke).toHaveBeenLastCalledWith("speaker_test", { device: "pipewire" });
    // A speaker that does not open is refused; the one before stays, for the next start too.
    await expect(media.setOutputDevice("hw:9,0")).rejects.toMatchObject({ reason: "missing" });
    await media.openDevices({ mic: true, camera: false, devices: { audioInput: "hw:1,0" } });
    expect(invoke).toHaveBeenLastCalledWith(
      "media_start",
      expect.objectContaining({ audioDevices: { microphone: "hw:1,0", speaker: "pipewire" } }),
    );
  });

  it("switches the microphone in the meeting in place, and a first one starts muted", async () => {
    const media = backend({ ...base, microphone: false, microphone_error: { reason: "missing", detail: "no microphone found" } });
    await media.openDevices({ mic: true, camera: false });
    expect(media.local.hasMic).toBe(false);
    await media.setInputDevice("pulseaudio:headset");
    const calls = invoke.mock.calls.map(([cmd, args]) => [cmd, args]);
    expect(calls.slice(-2)).toEqual([
      ["microphone_set", { on: false }],
      ["microphone_use", { device: "pulseaudio:headset" }],
    ]);
    expect(media.local).toMatchObject({ hasMic: true, micMuted: true, deviceError: null, inputId: "pulseaudio:headset" });
    // Another one: just swapped, the mute state as it was.
    await media.setInputDevice("");
    expect(invoke).toHaveBeenLastCalledWith("microphone_use", { device: null });
    expect(invoke.mock.calls.filter(([cmd]) => cmd === "media_start")).toHaveLength(1);
  });

  it("plays the test tone in the app, and says so when the speaker refuses", async () => {
    const media = backend(base);
    await media.playTestSound();
    expect(invoke).toHaveBeenCalledWith("speaker_test", { device: null });
    invoke.mockImplementation((cmd: string) =>
      cmd === "speaker_test" ? Promise.reject({ reason: "busy", detail: "speaker busy" }) : Promise.resolve(undefined),
    );
    await expect(media.playTestSound("hw:2,0")).rejects.toMatchObject({ reason: "busy" });
    expect(invoke).toHaveBeenCalledWith("speaker_test", { device: "hw:2,0" });
  });
});
