import { describe, expect, it, vi } from "vitest";

import { messages } from "../i18n/catalogue";
import { deviceErrorText } from "../views/deviceError";

const invoke = vi.fn();
/** The app's events, as the page subscribes to them. */
const handlers = new Map<string, (e: { payload: unknown }) => void>();
vi.mock("@tauri-apps/api/core", () => ({ invoke }));
vi.mock("@tauri-apps/api/event", () => ({
  listen: vi.fn((name: string, handler: (e: { payload: unknown }) => void) => {
    handlers.set(name, handler);
    return Promise.resolve(() => handlers.delete(name));
  }),
}));

const { DesktopMediaBackend } = await import("./desktop");
type Feed = ConstructorParameters<typeof DesktopMediaBackend>[2];
type Client = ConstructorParameters<typeof DesktopMediaBackend>[0];

function backend() {
  invoke.mockReset();
  invoke.mockImplementation((cmd: string) =>
    Promise.resolve(cmd === "media_start" ? { camera: true, microphone: true, synthetic: false } : undefined),
  );
  const feed = { connect() {}, reset() {}, onNewTrack: () => () => {}, has: () => false, onFrame: () => () => {} } as unknown as Feed;
  const client = { onMessage: () => () => {}, send() {} } as unknown as Client;
  return new DesktopMediaBackend(client, "127.0.0.1:1", feed);
}

describe("the app's camera", () => {
  it("goes off and says so when the camera is unplugged during the meeting, and opens again when switched on", async () => {
    const media = backend();
    await media.openDevices({ mic: true, camera: true });
    expect(media.local).toMatchObject({ hasCamera: true, cameraOn: true });
    const changes = vi.fn();
    media.subscribe(changes);

    await vi.waitFor(() => expect(handlers.has("camera-lost")).toBe(true));
    handlers.get("camera-lost")!({ payload: { reason: "failed", detail: "camera lost: unplugged" } });
    expect(media.local).toMatchObject({ hasCamera: true, cameraOn: false, deviceError: "camera_lost" });
    expect(changes).toHaveBeenCalled();
    const t = (k: keyof typeof messages) => messages[k].nb;
    expect(deviceErrorText(media.local.deviceError!, t)).toBe(messages.cameraLost.nb);
    expect(messages.cameraLost.nn).toContain("kopla frå");

    // Plugged back in: the camera button opens it again in the app.
    media.setCameraOn(true);
    await vi.waitFor(() => expect(invoke).toHaveBeenCalledWith("camera_set", { on: true }));
    expect(media.local.cameraOn).toBe(true);
  });

  it("switches to another camera in the meeting in place, and keeps the one before when the app refuses it", async () => {
    const media = backend();
    await media.openDevices({ mic: true, camera: true, devices: { videoInput: "v4l:/dev/video0" } });
    expect(media.local.cameraId).toBe("v4l:/dev/video0");
    await media.setCameraDevice("v4l:/dev/video2");
    expect(invoke).toHaveBeenLastCalledWith("camera_use", { device: "v4l:/dev/video2" });
    expect(media.local.cameraId).toBe("v4l:/dev/video2");
    invoke.mockImplementation((cmd: string) =>
      cmd === "camera_use" ? Promise.reject({ reason: "failed", detail: "the camera now delivers (640, 480) instead of (640, 360)" }) : Promise.resolve(undefined),
    );
    await expect(media.setCameraDevice("v4l:/dev/video4")).rejects.toMatchObject({ reason: "failed" });
    expect(media.local.cameraId).toBe("v4l:/dev/video2");
    expect(invoke.mock.calls.filter(([cmd]) => cmd === "media_start")).toHaveLength(1);
  });
});
