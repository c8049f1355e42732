// The app: which screen is shown, and the wiring between the signalling client, the meeting
// store and the media backend.

import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "preact/hooks";
import { I18nContext, pickLanguage, readStoredLanguage, storeLanguage, translator, localeOf, type Lang } from "./i18n";
import type { MediaBackend, MediaDeviceOption } from "./media/backend";
import { SignallingClient, signallingUrl, type ConnectionStatus } from "./protocol/client";
import type { ErrorCode, MeetingId, ParticipantId } from "./protocol/messages";
import type { ApiMeeting } from "./protocol/rest";
import { hostOf } from "./protocol/server-host";
import { useAccount } from "./settings/account";
import { readPreferences, storePreferences, type Preferences } from "./settings/preferences";
import { tabTokenStore, type TokenStore } from "./settings/tokens";
import { initialView, mutedOnEntry, reduce } from "./state/store";
import { Ended } from "./views/Ended";
import { Home, type HostRequest } from "./views/Home";
import { LanguageSetting } from "./views/LanguagePicker";
import { Meeting } from "./views/Meeting";
import { PreJoin, type PreJoinChoice } from "./views/PreJoin";
import { Settings } from "./views/Settings";
import { Waiting } from "./views/Waiting";

export interface AppConfig {
  /** Set when the page is a join link (/j/{id}). */
  meetingId: MeetingId | null;
  /** ?name= */
  name: string;
  /** ?lang= */
  langQuery: string | null;
  systemLanguages: readonly string[];
  /** The server host ("meet.uio.no"); the page's own host in the browser. */
  serverHost: string;
  secure: boolean;
  /** Whether the user picks the server (the desktop app). A page served by a server belongs to
   * it: its CSP lets it talk to that server only. */
  chooseServer: boolean;
}

export interface AppDeps {
  makeClient(url: string): SignallingClient;
  makeMedia(client: SignallingClient): MediaBackend;
  /** Hosts a meeting on a server inside the app (the desktop app with no server configured). */
  hostHere?: () => Promise<void>;
  /** Where the user's API token is kept: the system keyring in the desktop app, the tab in a
   * browser (the default). Must stay the same object for the app's life. */
  tokens?: TokenStore;
}

const browserTokens = tabTokenStore();

const SERVER_KEY = "samla.server";
const CLIENT_ID_KEY = "samla.client_id";

function clientId(): string | undefined {
  try {
    let id = localStorage.getItem(CLIENT_ID_KEY);
    if (!id) {
      id = crypto.randomUUID();
      localStorage.setItem(CLIENT_ID_KEY, id);
    }
    return id;
  } catch {
    return undefined;
  }
}

export function App({ config, deps }: { config: AppConfig; deps: AppDeps }) {
  const [override, setOverride] = useState<Lang | null>(() => readStoredLanguage());
  const lang = pickLanguage({ query: config.langQuery, stored: override, languages: config.systemLanguages });
  const i18n = useMemo(() => ({ lang, t: translator(lang) }), [lang]);
  const languageSetting = useMemo(
    () => ({
      override,
      set: (l: Lang | null) => {
        storeLanguage(l);
        setOverride(l);
      },
    }),
    [override],
  );
  useEffect(() => {
    document.documentElement.lang = localeOf(lang).split("-")[0]!;
  }, [lang]);

  const [serverHost, setServerHost] = useState(() => {
    try {
      return config.meetingId || !config.chooseServer ? config.serverHost : (localStorage.getItem(SERVER_KEY) ?? config.serverHost);
    } catch {
      return config.serverHost;
    }
  });
  const [meetingId, setMeetingId] = useState<MeetingId | null>(config.meetingId);
  const tokens = deps.tokens ?? browserTokens;
  const account = useAccount(serverHost, config.secure, tokens);
  const [preferences, setPreferences] = useState<Preferences>(() => readPreferences());
  const [showSettings, setShowSettings] = useState(false);
  const [view, dispatch] = useReducer(reduce, initialView);
  const [status, setStatus] = useState<ConnectionStatus>("idle");
  const [joining, setJoining] = useState(false);
  const [noServer, setNoServer] = useState(false);
  const [devices, setDevices] = useState<MediaDeviceOption[]>([]);
  const [name, setName] = useState(() => config.name || preferences.name);
  const [joinUrl, setJoinUrl] = useState<string | undefined>(undefined);
  /** The media backend while the pre-join screen shows its camera preview. */
  const [preview, setPreview] = useState<MediaBackend | null>(null);
  const devicesOpening = useRef<Promise<void> | null>(null);
  const lastChoice = useRef<PreJoinChoice | null>(null);
  /** The pre-join choice waits for the devices to open: a browser asking for permission can
   * take longer than the meeting takes to let us in. */
  const choicePending = useRef(false);
  /** Set when the meeting muted us as we came in (it mutes people who join, or does not let us
   * unmute ourselves) before the devices had opened: until the choice applies, nothing turns
   * the microphone on (the devices opening would), and then it applies with the microphone off. */
  const entryHold = useRef(false);
  const clientRef = useRef<SignallingClient | null>(null);
  const mediaRef = useRef<MediaBackend | null>(null);

  /** Stops following the device lists of the current media backend. */
  const unwatchDevices = useRef<(() => void) | null>(null);
  const teardown = useCallback(() => {
    devicesOpening.current = null;
    setPreview(null);
    unwatchDevices.current?.();
    unwatchDevices.current = null;
    mediaRef.current?.close();
    mediaRef.current = null;
    clientRef.current?.disconnect();
    clientRef.current = null;
  }, []);
  useEffect(() => teardown, [teardown]);

  const ensureClient = (): { client: SignallingClient; media: MediaBackend } => {
    if (clientRef.current && mediaRef.current) return { client: clientRef.current, media: mediaRef.current };
    const client = deps.makeClient(signallingUrl(serverHost, config.secure));
    const media = deps.makeMedia(client);
    clientRef.current = client;
    mediaRef.current = media;
    // A camera, microphone or speaker plugged in or out: the pickers list what is there now.
    unwatchDevices.current =
      media.onDevicesChanged?.(() => {
        void media.listDevices().then(setDevices).catch(() => {});
      }) ?? null;
    /** The seat we hold, to tell an entry from a resume of it. */
    let seat: ParticipantId | null = null;
    client.onMessage((msg) => {
      switch (msg.type) {
        case "media_config":
        case "media_answer":
        case "media_offer":
        case "media_tracks":
        case "media_layers":
          media.handle(msg);
          break;
        case "muted_by":
          media.setMicMuted(true);
          break;
        case "error":
          media.onOfferRefused();
          setJoining(false);
          break;
        case "joined":
          setJoining(false);
          // Muted before the server is first told our media state, so it never hears "unmuted".
          if (msg.you !== seat && mutedOnEntry(msg)) {
            media.setMicMuted(true);
            if (choicePending.current) entryHold.current = true;
          }
          seat = msg.you;
          break;
        case "waiting":
          seat = null;
          setJoining(false);
          break;
        case "moved_to_waiting_room":
          // Let in again later is an entry of its own.
          seat = null;
          break;
        default:
          break;
      }
      if (msg.type === "joined") client.setMedia(media.local.micMuted, media.local.cameraOn);
      dispatch(msg);
    });
    client.onStatus((s) => {
      setStatus(s);
      if (s === "lost") {
        setJoining(false);
        if (clientRef.current === client) {
          devicesOpening.current = null;
          setPreview(null);
          unwatchDevices.current?.();
          unwatchDevices.current = null;
          media.close();
          clientRef.current = null;
          mediaRef.current = null;
        }
        setNoServer(true);
        dispatch({ type: "local/connection_lost" });
      }
    });
    // Keep the server told about our microphone and camera.
    let last = "";
    media.subscribe(() => {
      if (entryHold.current && !media.local.micMuted) {
        media.setMicMuted(true);
        return;
      }
      const key = `${media.local.micMuted}/${media.local.cameraOn}`;
      if (key !== last) {
        last = key;
        client.setMedia(media.local.micMuted, media.local.cameraOn);
      }
    });
    return { client, media };
  };

  const join = (choice: PreJoinChoice) => {
    if (!meetingId) return;
    lastChoice.current = choice;
    setName(choice.name);
    setNoServer(false);
    setJoining(true);
    const { client, media } = ensureClient();
    // Opened for the preview, they are kept; otherwise they open now.
    devicesOpening.current ??= media
      .openDevices({ mic: choice.mic, camera: choice.camera, devices: { audioInput: choice.audioInput, videoInput: choice.videoInput } })
      .then(() => media.listDevices())
      .then(setDevices)
      .catch(() => {});
    choicePending.current = true;
    entryHold.current = false;
    void devicesOpening.current.then(() => {
      media.setMicMuted(!choice.mic || entryHold.current);
      media.setCameraOn(choice.camera);
      choicePending.current = false;
      entryHold.current = false;
    });
    dispatch({ type: "local/joining" });
    // Signed in to this server: join as oneself (an owner hosts, a "signed in only" meeting lets
    // one in), however the meeting was reached.
    const token = account.state.status === "signed_in" ? account.state.token : undefined;
    client.join({ meetingId, displayName: choice.name, passcode: choice.passcode, token, clientId: clientId() });
  };

  const leave = () => {
    clientRef.current?.leave();
    teardown();
    dispatch({ type: "local/left" });
  };

  const rejoin = () => {
    teardown();
    dispatch({ type: "local/reset" });
    if (lastChoice.current) join(lastChoice.current);
  };

  // The window title names the meeting once we know its topic.
  const topic = view.meeting?.topic;
  useEffect(() => {
    document.title = topic ? `${topic} – ${i18n.t("appName")}` : i18n.t("appName");
  }, [topic, i18n]);

  // The pre-join screen previews the camera: open the devices as soon as it shows.
  const onPreJoin = !!meetingId && view.phase === "idle";
  useEffect(() => {
    if (!onPreJoin || devicesOpening.current) return;
    const { media } = ensureClient();
    setPreview(media);
    // Both open, so either can be switched on before joining; the user's settings then apply.
    devicesOpening.current = media
      .openDevices({ mic: true, camera: true })
      .then(() => {
        if (preferences.joinMuted) media.setMicMuted(true);
        if (preferences.joinCameraOff) media.setCameraOn(false);
      })
      .then(() => media.listDevices())
      .then(setDevices)
      .catch(() => {});
  }, [onPreJoin]);

  /** Another microphone or camera chosen before joining: open the devices again with it. Both
   * open, as for the preview, so either can be switched on later; the toggles then apply. */
  const chooseDevices = (choice: { audioInput?: string | undefined; videoInput?: string | undefined; mic: boolean; camera: boolean }) => {
    const media = mediaRef.current;
    if (!media || view.phase !== "idle") return;
    devicesOpening.current = media
      .openDevices({ mic: true, camera: true, devices: { audioInput: choice.audioInput, videoInput: choice.videoInput } })
      .then(() => {
        media.setMicMuted(!choice.mic);
        media.setCameraOn(choice.camera);
      })
      .then(() => media.listDevices())
      .then(setDevices)
      .catch(() => {});
  };

  const linkFor = (id: MeetingId) =>
    `${config.secure ? "https" : "http"}://${hostOf(serverHost)}/j/${id}`;

  /** Goes to a meeting's pre-join screen (joined signed in when the user is: an owner hosts). */
  const goTo = (id: MeetingId, link?: string) => {
    setJoinUrl(link);
    setMeetingId(id);
  };

  const host = async (req: HostRequest) => {
    if (account.state.status !== "signed_in") return;
    const meeting = await account.state.client.createMeeting({ topic: req.topic, waiting_room: req.waitingRoom });
    goTo(meeting.id, meeting.join_url);
  };

  let screen;
  if (view.phase === "waiting") {
    screen = <Waiting meeting={view.meeting} onLeave={leave} />;
  } else if (view.phase === "joined" && mediaRef.current && clientRef.current) {
    screen = (
      <Meeting
        view={view}
        media={mediaRef.current}
        actions={clientRef.current}
        dispatch={dispatch}
        onLeave={leave}
        reconnecting={status === "reconnecting"}
        joinUrl={joinUrl ?? linkFor(view.meeting?.id ?? meetingId ?? "")}
        devices={devices}
      />
    );
  } else if (view.phase === "ended") {
    screen = (
      <Ended
        reason={view.closedReason}
        onRejoin={lastChoice.current ? rejoin : undefined}
        onHome={() => {
          teardown();
          dispatch({ type: "local/reset" });
          setMeetingId(config.meetingId);
        }}
      />
    );
  } else if (showSettings) {
    screen = (
      <Settings
        serverHost={serverHost}
        account={account}
        kept={tokens.kept}
        preferences={preferences}
        onPreferences={(prefs) => {
          setPreferences(prefs);
          storePreferences(prefs);
          setName(prefs.name);
        }}
        onBack={() => setShowSettings(false)}
      />
    );
  } else if (meetingId) {
    const error: ErrorCode | "no_server" | null = view.joinError ?? (noServer ? "no_server" : null);
    screen = (
      <PreJoin
        meetingId={meetingId}
        initialName={name}
        initialMic={!preferences.joinMuted}
        initialCamera={!preferences.joinCameraOff}
        error={error}
        busy={joining}
        devices={devices}
        media={preview ?? undefined}
        onDevices={chooseDevices}
        onJoin={join}
        onSignIn={() => setShowSettings(true)}
        onBack={
          config.meetingId
            ? undefined
            : () => {
                teardown();
                setMeetingId(null);
              }
        }
      />
    );
  } else {
    screen = (
      <Home
        serverHost={serverHost}
        onServerHost={
          config.chooseServer
            ? (h) => {
                setServerHost(h);
                try {
                  localStorage.setItem(SERVER_KEY, h);
                } catch {
                  /* private mode */
                }
              }
            : undefined
        }
        account={account.state}
        onJoin={(id) => goTo(id)}
        onHost={host}
        onStart={(m: ApiMeeting) => goTo(m.id, m.join_url)}
        onSettings={() => setShowSettings(true)}
        onHostHere={deps.hostHere}
      />
    );
  }

  return (
    <I18nContext.Provider value={i18n}>
      <LanguageSetting.Provider value={languageSetting}>{screen}</LanguageSetting.Provider>
    </I18nContext.Provider>
  );
}
