import type { MessageKey } from "../i18n";
import type { DeviceErrorCode } from "../media/backend";

const KEYS: Record<DeviceErrorCode, MessageKey> = {
  camera_missing: "cameraMissing",
  camera_busy: "cameraBusy",
  camera_denied: "cameraDenied",
  camera_failed: "cameraFailed",
  camera_lost: "cameraLost",
  microphone_missing: "microphoneMissing",
  microphone_busy: "microphoneBusy",
  microphone_denied: "microphoneDenied",
  microphone_failed: "microphoneFailed",
};

/** The text for a backend's `deviceError`: the one for the device and reason when the
 * backend knows them (the desktop app), otherwise the general one (a browser's refusal). */
export function deviceErrorText(error: string, t: (k: MessageKey) => string): string {
  const key = (KEYS as Record<string, MessageKey | undefined>)[error];
  return t(key ?? "mediaDenied");
}
