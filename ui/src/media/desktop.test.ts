import { describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn(() => Promise.resolve(() => {})) }));

const { toShareError, sourcesError, DesktopMediaBackend } = await import("./desktop");
const { ScreenShareError } = await import("./backend");
type Feed = ConstructorParameters<typeof DesktopMediaBackend>[2];
type Client = ConstructorParameters<typeof DesktopMediaBackend>[0];

describe("toShareError", () => {
  it("keeps the app's reason and detail", () => {
    const e = toShareError({ reason: "no_display", detail: "no display to share (DISPLAY is not set)" });
    expect(e).toBeInstanceOf(ScreenShareError);
    expect(e.reason).toBe("no_display");
    expect(e.detail).toContain("DISPLAY");
  });

  it("treats anything else as a failed capture", () => {
    expect(toShareError({ reason: "bogus" }).reason).toBe("capture");
    const e = toShareError(new Error("boom"));
    expect(e.reason).toBe("capture");
    expect(e.detail).toBe("boom");
    expect(toShareError("x").detail).toBe("x");
  });
});

describe("the app's devices", () => {
  const base = { camera: false, microphone: false, synthetic: false };

  it("names the device that did not open and why, the camera first", () => {
    expect(sourcesError({ ...base, camera_error: { reason: "missing", detail: "" } })).toBe("camera_missing");
    expect(sourcesError({ ...base, camera_error: { reason: "busy", detail: "" }, microphone_error: { reason: "missing", detail: "" } })).toBe("camera_busy");
    expect(sourcesError({ ...base, microphone_error: { reason: "denied", detail: "" } })).toBe("microphone_denied");
    expect(sourcesError({ ...base, camera_error: { reason: "weird", detail: "" } })).toBe("camera_failed");
    expect(sourcesError({ ...base, camera: true })).toBeNull();
  });

  /** A backend on a fake frame socket whose app answers `media_start` with `sources`. */
  function backend(sources: object) {
    invoke.mockReset();
    invoke.mockImplementation((cmd: string) => Promise.resolve(cmd === "media_start" ? sources : undefined));
    const drawers: string[] = [];
    const feed = {
      connect() {},
      reset() {},
      onNewTrack: () => () => {},
      has: () => false,
      onFrame(participant: number, kind: string) {
        drawers.push(`${participant}/${kind}`);
        return () => {};
      },
    } as unknown as Feed;
    const client = { onMessage: () => () => {}, send() {} } as unknown as Client;
    return { media: new DesktopMediaBackend(client, "127.0.0.1:1", feed), drawers };
  }

  it("opens the picked camera, and switches it off and on in the app", async () => {
    const { media } = backend({ ...base, camera: true, synthetic: true });
    await media.openDevices({ mic: false, camera: true, devices: { videoInput: "/dev/video2" } });
    expect(invoke).toHaveBeenCalledWith("media_start", expect.objectContaining({ camera: true, cameraDevice: "/dev/video2" }));
    expect(media.local.cameraOn).toBe(true);
    expect(media.hasVideo({ kind: "local-camera" })).toBe(true);
    media.setCameraOn(false);
    expect(media.local.cameraOn).toBe(false);
    expect(media.hasVideo({ kind: "local-camera" })).toBe(false);
    await vi.waitFor(() => expect(invoke).toHaveBeenCalledWith("camera_set", { on: false }));
  });

  it("keeps the camera off and says why when it does not open again", async () => {
    const { media } = backend({ ...base, camera: true });
    await media.openDevices({ mic: false, camera: true });
    media.setCameraOn(false);
    invoke.mockImplementation((cmd: string) => (cmd === "camera_set" ? Promise.reject({ reason: "busy", detail: "in use" }) : Promise.resolve()));
    media.setCameraOn(true);
    await vi.waitFor(() => expect(media.local.deviceError).toBe("camera_busy"));
    expect(media.local.cameraOn).toBe(false);
  });

  it("goes on without a camera that is missing, saying so", async () => {
    const { media } = backend({ ...base, camera_error: { reason: "missing", detail: "no camera found" } });
    await media.openDevices({ mic: false, camera: true });
    expect(media.local.hasCamera).toBe(false);
    expect(media.local.deviceError).toBe("camera_missing");
  });

  it("draws the self view from the frame socket's own track", async () => {
    const { media, drawers } = backend({ ...base, camera: true, synthetic: true });
    await media.openDevices({ mic: false, camera: true });
    const box = document.createElement("div");
    const detach = media.attachVideo(box, { kind: "local-camera" });
    const canvas = box.querySelector("canvas")!;
    expect(canvas.classList.contains("self-view")).toBe(true);
    expect(canvas.dataset["track"]).toBe("self");
    detach();
    expect(box.querySelector("canvas")).toBeNull();
    // The renderer needs WebGL, which the test DOM lacks; the frames were not subscribed then.
    expect(drawers.every((d) => d === "0/self")).toBe(true);
  });
});
