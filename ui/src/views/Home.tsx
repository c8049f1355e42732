import { useCallback, useMemo, useState } from "preact/hooks";
import { useI18n } from "../i18n";
import { parseMeetingId, type MeetingId } from "../protocol/messages";
import type { ApiMeeting, NewApiMeeting } from "../protocol/rest";
import type { AccountState } from "../settings/account";
import { ScheduleMeeting } from "./MeetingForm";
import { PastMeetings } from "./PastMeetings";
import { UpcomingMeetings } from "./UpcomingMeetings";

export interface HostRequest {
  topic: string;
  waitingRoom: boolean;
}

export interface HomeProps {
  serverHost: string;
  /** Where the user may pick the server (the desktop app); a page served by one belongs to it. */
  onServerHost?: (host: string) => void;
  /** Signed in to the server or not: hosting there and the upcoming and past meetings need it. */
  account: AccountState;
  onJoin(id: MeetingId): void;
  /** Creates a meeting now on the signed-in server and goes to it. */
  onHost(req: HostRequest): Promise<void>;
  /** Starts one of the user's scheduled meetings. */
  onStart(meeting: ApiMeeting): void;
  onSettings(): void;
  /** Only in the desktop app without a configured server: host on this computer. */
  onHostHere?: () => Promise<void>;
}

export function Home({ serverHost, onServerHost, account, onJoin, onHost, onStart, onSettings, onHostHere }: HomeProps) {
  const { t } = useI18n();
  const [link, setLink] = useState("");
  const [joinError, setJoinError] = useState<string | null>(null);
  const [topic, setTopic] = useState("");
  const [waitingRoom, setWaitingRoom] = useState(true);
  const [hostStatus, setHostStatus] = useState<string | null>(null);
  const [hereStatus, setHereStatus] = useState<string | null>(null);

  const join = (e: Event) => {
    e.preventDefault();
    const id = parseMeetingId(link);
    if (!id) {
      setJoinError(t("invalidMeetingId"));
      return;
    }
    setJoinError(null);
    onJoin(id);
  };
  const host = async (e: Event) => {
    e.preventDefault();
    setHostStatus(t("creating"));
    try {
      await onHost({ topic: topic.trim() || t("meeting"), waitingRoom });
      setHostStatus(null);
    } catch (err) {
      setHostStatus(t("createFailed", { reason: err instanceof Error ? err.message : String(err) }));
    }
  };

  const hostHere = async () => {
    if (!onHostHere) return;
    setHereStatus(t("desktopHosting"));
    try {
      await onHostHere();
      setHereStatus(null);
    } catch (err) {
      setHereStatus(t("desktopHostFailed", { reason: err instanceof Error ? err.message : String(err) }));
    }
  };

  const client = account.status === "signed_in" ? account.client : null;
  /** Bumped when a meeting is scheduled or deleted: the lists load again. */
  const [listed, relist] = useState(0);
  // One request for both lists (upcoming and past): the first to ask fetches, the other shares it;
  // a bump of `listed` makes a new load, which fetches again.
  const loadMeetings = useMemo(() => {
    let fetched: Promise<ApiMeeting[]> | null = null;
    return () => (fetched ??= client!.meetings());
  }, [client, listed]);
  const loadAttendance = useCallback((meeting: ApiMeeting) => client!.attendance(meeting.id), [client]);
  const loadAttendanceCsv = useCallback((meeting: ApiMeeting) => client!.attendanceCsv(meeting.id), [client]);
  const schedule = async (meeting: NewApiMeeting) => {
    await client!.createMeeting(meeting);
    relist((n) => n + 1);
  };
  const deleteMeeting = async (meeting: ApiMeeting) => {
    await client!.deleteMeeting(meeting.id);
    relist((n) => n + 1);
  };
  const changeMeeting = async (meeting: ApiMeeting, change: NewApiMeeting) => {
    await client!.updateMeeting(meeting.id, change);
    relist((n) => n + 1);
  };

  return (
    <main class="card home">
      <header class="home-header">
        <h1>{t("homeTitle")}</h1>
        <button type="button" class="settings-button" onClick={onSettings}>
          {t("settings")}
        </button>
      </header>
      {account.status === "signed_in" && <p class="hint signed-in">{t("signedInShort", { name: account.me.display_name })}</p>}
      {onHostHere && !serverHost.trim() && (
        <section class="host-here" aria-label={t("desktopHostHere")}>
          <button type="button" class="primary" onClick={() => void hostHere()}>
            {t("desktopHostHere")}
          </button>
          <p role="status">{hereStatus}</p>
        </section>
      )}
      {onServerHost && (
        <>
          <label for="server-host">{t("serverHost")}</label>
          <input
            id="server-host"
            value={serverHost}
            placeholder={t("serverHostHint")}
            autocomplete="url"
            onInput={(e) => onServerHost(e.currentTarget.value)}
          />
        </>
      )}
      {client && <UpcomingMeetings load={loadMeetings} onJoin={onStart} onDelete={deleteMeeting} onChange={changeMeeting} />}
      {client && <PastMeetings load={loadMeetings} attendance={loadAttendance} attendanceCsv={loadAttendanceCsv} />}
      <form onSubmit={join} aria-labelledby="join-heading">
        <h2 id="join-heading">{t("joinMeeting")}</h2>
        <label for="meeting-link">{t("joinByLinkOrId")}</label>
        <input
          id="meeting-link"
          value={link}
          inputMode="text"
          autocomplete="off"
          aria-invalid={joinError ? "true" : undefined}
          aria-describedby="join-error"
          onInput={(e) => setLink(e.currentTarget.value)}
        />
        <p id="join-error" role="alert" class="error">
          {joinError}
        </p>
        <button type="submit" class="primary">
          {t("join")}
        </button>
      </form>
      {client ? (
        <>
          <form onSubmit={host} aria-labelledby="host-heading">
            <h2 id="host-heading">{t("hostMeeting")}</h2>
            <label for="topic">{t("meetingTopic")}</label>
            <input id="topic" value={topic} maxLength={200} onInput={(e) => setTopic(e.currentTarget.value)} />
            <label class="check">
              <input type="checkbox" checked={waitingRoom} onChange={(e) => setWaitingRoom(e.currentTarget.checked)} />
              {t("useWaitingRoom")}
            </label>
            <p role="status">{hostStatus}</p>
            <button type="submit">{t("hostMeeting")}</button>
          </form>
          <ScheduleMeeting onSchedule={schedule} />
        </>
      ) : (
        serverHost.trim() && (
          <p class="hint sign-in-hint">
            {t("signInToHost")}{" "}
            <button type="button" class="link" onClick={onSettings}>
              {t("settings")}
            </button>
          </p>
        )
      )}
    </main>
  );
}
