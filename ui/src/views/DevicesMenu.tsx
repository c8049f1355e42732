import { useState } from "preact/hooks";
import { useI18n } from "../i18n";
import { DeviceOptions } from "./DeviceOptions";
import type { MediaBackend, MediaDeviceOption } from "../media/backend";
import { useMedia } from "./hooks";

/**
 * The meeting's microphone, speaker and camera pickers, in a menu next to the mute and video
 * buttons: a headset or a webcam plugged in during a lecture is picked here without leaving.
 * A device that does not open leaves the one before in use, and the menu says so.
 */
export function DevicesMenu({ media, devices }: { media: MediaBackend; devices: MediaDeviceOption[] }) {
  const { t } = useI18n();
  const local = useMedia(media);
  const [refused, setRefused] = useState(false);
  if (!media.setInputDevice && !media.setOutputDevice && !media.setCameraDevice) return null;
  const mics = devices.filter((d) => d.kind === "audioinput" && d.id !== "default");
  const cams = devices.filter((d) => d.kind === "videoinput");
  const outputs = devices.filter((d) => d.kind === "audiooutput" && d.id !== "default");
  const canChooseOutput = !!media.setOutputDevice && !!media.canChooseOutput?.() && outputs.length > 0;
  const use = (switching: Promise<void> | undefined) => {
    setRefused(false);
    switching?.catch(() => setRefused(true));
  };
  return (
    <details class="devices-menu">
      <summary>{t("devicesMenu")}</summary>
      <div role="group" aria-label={t("devicesMenu")}>
        {media.setInputDevice && (
          <>
            <label for="meeting-mic">{t("microphone")}</label>
            <select id="meeting-mic" value={local.inputId} onChange={(e) => use(media.setInputDevice?.(e.currentTarget.value))}>
              <DeviceOptions devices={mics} />
            </select>
          </>
        )}
        {canChooseOutput && (
          <>
            <label for="meeting-speaker">{t("speaker")}</label>
            <select id="meeting-speaker" value={local.outputId} onChange={(e) => use(media.setOutputDevice?.(e.currentTarget.value))}>
              <DeviceOptions devices={outputs} />
            </select>
          </>
        )}
        {media.setCameraDevice && local.hasCamera && (
          <>
            <label for="meeting-camera">{t("camera")}</label>
            <select id="meeting-camera" value={local.cameraId} onChange={(e) => use(media.setCameraDevice?.(e.currentTarget.value))}>
              <DeviceOptions devices={cams} />
            </select>
          </>
        )}
        {refused && (
          <p class="error" role="alert">
            {t("deviceRefused")}
          </p>
        )}
      </div>
    </details>
  );
}
