import { useEffect, useRef, useState } from "preact/hooks";
import { useI18n, type MessageKey } from "../i18n";
import type { MediaBackend, MediaDeviceOption } from "../media/backend";
import { smoothLevel } from "../media/level";
import { deviceErrorText } from "./deviceError";
import { useMedia } from "./hooks";
import { formatMeetingId, type ErrorCode, type MeetingId } from "../protocol/messages";
import { DeviceOptions } from "./DeviceOptions";

export interface PreJoinChoice {
  name: string;
  passcode?: string;
  mic: boolean;
  camera: boolean;
  audioInput?: string;
  videoInput?: string;
}

export interface PreJoinProps {
  meetingId: MeetingId;
  initialName: string;
  /** Whether the microphone and camera start on (the user's settings); on unless told. */
  initialMic?: boolean;
  initialCamera?: boolean;
  /** A join refusal from the server, or null. */
  error: ErrorCode | "no_server" | null;
  busy: boolean;
  devices: MediaDeviceOption[];
  /** The opened devices, for the camera preview; absent until there are any. */
  media?: MediaBackend | undefined;
  /** Another microphone or camera was picked: reopen the devices with it. */
  onDevices?: (choice: Omit<PreJoinChoice, "name" | "passcode">) => void;
  onJoin(choice: PreJoinChoice): void;
  onBack?: () => void;
  /** Opens Settings to sign in: offered when the meeting wants a signed-in user. */
  onSignIn?: () => void;
}

export function errorText(code: ErrorCode | "no_server", t: (k: MessageKey, p?: Record<string, string>) => string): string {
  switch (code) {
    case "no_server":
      return t("noServer");
    case "passcode_required":
      return t("passcodeRequired");
    case "wrong_passcode":
      return t("wrongPasscode");
    case "meeting_not_found":
    case "meeting_ended":
    case "too_many_attempts":
    case "meeting_locked":
    case "sign_in_required":
    case "invalid_token":
    case "removed_from_meeting":
    case "not_allowed":
    case "chat_not_allowed":
      return t(`error_${code}`);
    default:
      return t("error_generic", { message: code });
  }
}

/** The camera as it will be sent, before joining. */
function Preview({ media, cameraOn }: { media: MediaBackend; cameraOn: boolean }) {
  const { t } = useI18n();
  const local = useMedia(media);
  const box = useRef<HTMLDivElement>(null);
  const showing = cameraOn && local.hasCamera;
  useEffect(() => {
    if (!box.current || !showing) return;
    return media.attachVideo(box.current, { kind: "local-camera" });
  }, [media, showing]);
  return (
    <div class="preview" role="img" aria-label={showing ? t("cameraPreview") : t("cameraIsOff")}>
      <div class="video" ref={box} />
      {!showing && <span class="camera-off">{local.deviceError ? deviceErrorText(local.deviceError, t) : t("cameraIsOff")}</span>}
    </div>
  );
}

/** How often the microphone meter reads the level. */
export const METER_INTERVAL_MS = 100;

/** The microphone's level, read from the backend while the microphone is on. */
export function MicMeter({ media, on }: { media: MediaBackend; on: boolean }) {
  const { t } = useI18n();
  const local = useMedia(media);
  const live = on && local.hasMic;
  const [level, setLevel] = useState(0);
  useEffect(() => {
    setLevel(0);
    if (!live || !media.micLevel) return;
    const timer = setInterval(() => setLevel((prev) => smoothLevel(prev, media.micLevel?.() ?? 0)), METER_INTERVAL_MS);
    return () => clearInterval(timer);
  }, [media, live]);
  const pct = live ? Math.round(level * 100) : 0;
  return (
    <div class="mic-meter">
      <span id="mic-level-label">{t("micLevel")}</span>
      <div
        class={`meter${live ? "" : " off"}`}
        role="meter"
        aria-labelledby="mic-level-label"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={live ? `${pct} %` : t("micLevelOff")}
      >
        <div class="fill" style={{ width: `${pct}%` }} />
      </div>
      <span class="hint">{live ? t("micLevelHint") : t("micLevelOff")}</span>
    </div>
  );
}

type SoundTest = "idle" | "playing" | "played" | "failed";

/** Plays the test tone through the chosen output and says how it went. */
export function SpeakerTest({ media, outputId }: { media: MediaBackend; outputId: string }) {
  const { t } = useI18n();
  const [state, setState] = useState<SoundTest>("idle");
  const alive = useRef(true);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );
  const play = () => {
    if (!media.playTestSound) return;
    setState("playing");
    media.playTestSound(outputId || undefined).then(
      () => alive.current && setState("played"),
      () => alive.current && setState("failed"),
    );
  };
  const said = { idle: "", playing: t("playingTestSound"), played: t("testSoundPlayed"), failed: t("testSoundFailed") }[state];
  return (
    <div class="speaker-test">
      <button type="button" id="test-speaker" onClick={play} disabled={state === "playing"}>
        {t("testSpeaker")}
      </button>
      <span aria-live="polite" class={state === "failed" ? "error" : "hint"}>
        {said}
      </span>
    </div>
  );
}

export function PreJoin({ meetingId, initialName, initialMic = true, initialCamera = true, error, busy, devices, media, onDevices, onJoin, onBack, onSignIn }: PreJoinProps) {
  const { t } = useI18n();
  const [name, setName] = useState(initialName);
  const [passcode, setPasscode] = useState("");
  const [mic, setMic] = useState(initialMic);
  const [camera, setCamera] = useState(initialCamera);
  const [audioInput, setAudioInput] = useState("");
  const [videoInput, setVideoInput] = useState("");
  const [audioOutput, setAudioOutput] = useState("");
  const [outputRefused, setOutputRefused] = useState(false);
  const [deviceRefused, setDeviceRefused] = useState(false);
  const [nameError, setNameError] = useState(false);
  const needsPasscode = error === "passcode_required" || error === "wrong_passcode";
  const passRef = useRef<HTMLInputElement>(null);
  const nameRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (needsPasscode) passRef.current?.focus();
    else if (!initialName) nameRef.current?.focus();
  }, [needsPasscode, initialName]);

  const submit = (e: Event) => {
    e.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) {
      setNameError(true);
      nameRef.current?.focus();
      return;
    }
    setNameError(false);
    onJoin({
      name: trimmed.slice(0, 64),
      passcode: needsPasscode && passcode ? passcode : undefined,
      mic,
      camera,
      audioInput: audioInput || undefined,
      videoInput: videoInput || undefined,
    });
  };

  const mics = devices.filter((d) => d.kind === "audioinput");
  const cams = devices.filter((d) => d.kind === "videoinput");
  const outputs = devices.filter((d) => d.kind === "audiooutput");
  const canChooseOutput = !!media?.setOutputDevice && !!media.canChooseOutput?.();
  const status = nameError ? t("nameNeeded") : error ? errorText(error, t) : busy ? t("connecting") : "";

  const pickMic = (on: boolean) => {
    setMic(on);
    media?.setMicMuted(!on);
  };
  const pickCamera = (on: boolean) => {
    setCamera(on);
    media?.setCameraOn(on);
  };
  const pickDevice = (kind: "audio" | "video", id: string) => {
    if (kind === "audio") setAudioInput(id);
    else setVideoInput(id);
    // Another microphone or camera is switched to in place where the backend can (the other
    // device and the meter go on); one that does not open leaves the one before, and says so.
    // A camera where none opened at first has no track to switch: the devices open again.
    const switchInPlace =
      kind === "audio" ? media?.setInputDevice?.bind(media) : media?.local.hasCamera ? media.setCameraDevice?.bind(media) : undefined;
    if (switchInPlace) {
      const before = kind === "audio" ? audioInput : videoInput;
      const restore = kind === "audio" ? setAudioInput : setVideoInput;
      setDeviceRefused(false);
      switchInPlace(id).catch(() => {
        restore(before);
        setDeviceRefused(true);
      });
      return;
    }
    onDevices?.({
      mic,
      camera,
      audioInput: (kind === "audio" ? id : audioInput) || undefined,
      videoInput: (kind === "video" ? id : videoInput) || undefined,
    });
  };

  /** A speaker that does not open leaves the one before playing, and the picker says so. */
  const pickOutput = (id: string) => {
    const before = audioOutput;
    setAudioOutput(id);
    setOutputRefused(false);
    media?.setOutputDevice?.(id).catch(() => {
      setAudioOutput(before);
      setOutputRefused(true);
    });
  };

  return (
    <main class={`card prejoin${media ? " with-preview" : ""}`}>
      <h1>{t("appName")}</h1>
      <p class="meeting-id">{t("meetingIdLabel", { id: formatMeetingId(meetingId) })}</p>
      {media && <Preview media={media} cameraOn={camera} />}
      <form onSubmit={submit}>
        <label for="name">{t("yourName")}</label>
        <input
          id="name"
          ref={nameRef}
          value={name}
          maxLength={64}
          autocomplete="name"
          required
          aria-invalid={nameError ? "true" : undefined}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        {needsPasscode && (
          <>
            <label for="passcode">{t("passcode")}</label>
            <input
              id="passcode"
              ref={passRef}
              value={passcode}
              autocomplete="off"
              onInput={(e) => setPasscode(e.currentTarget.value)}
            />
          </>
        )}
        <fieldset class="toggles">
          <legend class="visually-hidden">{t("joinOptions")}</legend>
          <label class="check">
            <input type="checkbox" checked={mic} onChange={(e) => pickMic(e.currentTarget.checked)} />
            {t("joinWithMicOn")}
          </label>
          <label class="check">
            <input type="checkbox" checked={camera} onChange={(e) => pickCamera(e.currentTarget.checked)} />
            {t("joinWithCameraOn")}
          </label>
        </fieldset>
        {media && (media.micLevel || media.playTestSound) && (
          <div class="checks">
            {media.micLevel && <MicMeter media={media} on={mic} />}
            {media.playTestSound && <SpeakerTest media={media} outputId={audioOutput} />}
          </div>
        )}
        <details class="devices">
          <summary>
            {t("microphone")} / {t("camera")} / {t("speaker")}
          </summary>
          <label for="mic-device">{t("microphone")}</label>
          <select id="mic-device" value={audioInput} onChange={(e) => pickDevice("audio", e.currentTarget.value)}>
            <DeviceOptions devices={mics} />
          </select>
          <label for="cam-device">{t("camera")}</label>
          <select id="cam-device" value={videoInput} onChange={(e) => pickDevice("video", e.currentTarget.value)}>
            <DeviceOptions devices={cams} />
          </select>
          {deviceRefused && (
            <p class="error" role="alert">
              {t("deviceRefused")}
            </p>
          )}
          {canChooseOutput && outputs.length > 0 ? (
            <>
              <label for="speaker-device">{t("speaker")}</label>
              <select id="speaker-device" value={audioOutput} onChange={(e) => pickOutput(e.currentTarget.value)}>
                <DeviceOptions devices={outputs.filter((d) => d.id !== "default")} />
              </select>
              {outputRefused && (
                <p class="error" role="alert">
                  {t("speakerRefused")}
                </p>
              )}
            </>
          ) : (
            mics.length + cams.length > 0 && <p class="hint">{t("outputFixed")}</p>
          )}
          {mics.length + cams.length === 0 && <p class="hint">{t("devicesLater")}</p>}
        </details>
        <p role="status" aria-live="polite" class={error || nameError ? "error" : undefined}>
          {status}
        </p>
        <div class="row">
          {onSignIn && (error === "sign_in_required" || error === "invalid_token") && (
            <button type="button" onClick={onSignIn}>
              {t("signIn")}
            </button>
          )}
          {onBack && (
            <button type="button" onClick={onBack}>
              {t("back")}
            </button>
          )}
          <button id="join" type="submit" class="primary" disabled={busy}>
            {t("join")}
          </button>
        </div>
      </form>
    </main>
  );
}
