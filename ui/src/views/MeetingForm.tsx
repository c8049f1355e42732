import { useState } from "preact/hooks";
import { useI18n } from "../i18n";
import type { ApiMeeting, NewApiMeeting } from "../protocol/rest";

/** The lengths a lecture or a meeting usually has, in minutes. */
const DURATIONS = [30, 45, 60, 90, 120, 180];

/** A `datetime-local` value (the user's own clock) for `date`, to the minute. */
function localInputValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The next whole hour after `now`: where a new meeting's time starts. */
function nextHour(now: Date): Date {
  const at = new Date(now);
  at.setHours(at.getHours() + 1, 0, 0, 0);
  return at;
}

export interface MeetingFormProps {
  /** Unique on the page: the fields' ids start with it. */
  idPrefix: string;
  /** The meeting to change; a new one without. */
  editing?: ApiMeeting;
  /** Sends the meeting to the server; rejects with the server's reason. */
  onSubmit(meeting: NewApiMeeting): Promise<void>;
  onCancel?: () => void;
  /** "Now", for tests; the clock otherwise. */
  now?: () => Date;
}

/** A scheduled meeting's topic, start (on the user's own clock, sent in UTC), length, passcode,
 * waiting room and the rules it starts with (participants muted when they join, who may share
 * their screen): to schedule one, or to change one. */
export function MeetingForm({ idPrefix, editing, onSubmit, onCancel, now = () => new Date() }: MeetingFormProps) {
  const { t } = useI18n();
  const [topic, setTopic] = useState(editing?.topic ?? "");
  const [startsAt, setStartsAt] = useState(() =>
    localInputValue(editing?.start_time ? new Date(editing.start_time) : nextHour(now())),
  );
  const [minutes, setMinutes] = useState(editing?.duration_minutes ?? 90);
  const [passcode, setPasscode] = useState("");
  const [waitingRoom, setWaitingRoom] = useState(editing?.waiting_room ?? true);
  const [muteOnEntry, setMuteOnEntry] = useState(editing?.mute_on_entry ?? false);
  const [hostsOnlyShare, setHostsOnlyShare] = useState(editing?.share_policy === "hosts_only");
  const [status, setStatus] = useState<{ text: string; error: boolean } | null>(null);
  const id = (field: string) => `${idPrefix}-${field}`;
  const durations = DURATIONS.includes(minutes) ? DURATIONS : [...DURATIONS, minutes].sort((a, b) => a - b);

  const submit = async (e: Event) => {
    e.preventDefault();
    // A datetime-local value without a zone is read as the user's local time.
    const start = new Date(startsAt);
    if (Number.isNaN(start.getTime()) || start.getTime() <= now().getTime()) {
      setStatus({ text: t("startInPast"), error: true });
      return;
    }
    setStatus({ text: editing ? t("saving") : t("creating"), error: false });
    const sharePolicy = hostsOnlyShare ? "hosts_only" : "everyone";
    try {
      await onSubmit({
        topic: topic.trim() || t("meeting"),
        start_time: start.toISOString(),
        duration_minutes: minutes,
        waiting_room: waitingRoom,
        // Left empty, a change keeps the passcode the meeting has.
        ...(passcode ? { passcode } : {}),
        // A change sends a rule only when the user changed it here, so saving a new time does
        // not undo a rule changed meanwhile elsewhere (another window, another host).
        ...(!editing || muteOnEntry !== editing.mute_on_entry ? { mute_on_entry: muteOnEntry } : {}),
        ...(!editing || sharePolicy !== editing.share_policy ? { share_policy: sharePolicy } : {}),
      });
      setStatus({ text: editing ? t("meetingSaved") : t("meetingScheduled"), error: false });
      if (!editing) {
        setTopic("");
        setPasscode("");
      }
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      setStatus({ text: t(editing ? "saveFailed" : "scheduleFailed", { reason }), error: true });
    }
  };

  return (
    <form onSubmit={submit} aria-label={editing ? t("editMeetingNamed", { topic: editing.topic }) : t("scheduleMeeting")}>
      <label for={id("topic")}>{t("meetingTopic")}</label>
      <input id={id("topic")} value={topic} maxLength={200} onInput={(e) => setTopic(e.currentTarget.value)} />
      <label for={id("start")}>{t("startsAt")}</label>
      <input id={id("start")} type="datetime-local" required value={startsAt} onInput={(e) => setStartsAt(e.currentTarget.value)} />
      <label for={id("duration")}>{t("duration")}</label>
      <select id={id("duration")} value={minutes} onChange={(e) => setMinutes(Number(e.currentTarget.value))}>
        {durations.map((m) => (
          <option key={m} value={m}>
            {t("minutes", { n: m })}
          </option>
        ))}
      </select>
      <label for={id("passcode")}>{editing?.has_passcode ? t("passcodeKeep") : t("passcodeOptional")}</label>
      <input id={id("passcode")} value={passcode} maxLength={32} autocomplete="off" onInput={(e) => setPasscode(e.currentTarget.value)} />
      <label class="check">
        <input type="checkbox" checked={waitingRoom} onChange={(e) => setWaitingRoom(e.currentTarget.checked)} />
        {t("useWaitingRoom")}
      </label>
      <label class="check">
        <input type="checkbox" checked={muteOnEntry} onChange={(e) => setMuteOnEntry(e.currentTarget.checked)} />
        {t("muteOnEntry")}
      </label>
      <label class="check">
        <input type="checkbox" checked={hostsOnlyShare} onChange={(e) => setHostsOnlyShare(e.currentTarget.checked)} />
        {t("onlyHostsShare")}
      </label>
      <p role="status" class={status?.error ? "error" : undefined}>
        {status?.text}
      </p>
      <div class="row">
        <button type="submit">{editing ? t("save") : t("schedule")}</button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            {t("close")}
          </button>
        )}
      </div>
    </form>
  );
}

/** Schedules a meeting for later; folded away until asked for, as most visits only join or start. */
export function ScheduleMeeting({ onSchedule }: { onSchedule(meeting: NewApiMeeting): Promise<void> }) {
  const { t } = useI18n();
  return (
    <details class="schedule">
      <summary>{t("scheduleMeeting")}</summary>
      <MeetingForm idPrefix="schedule" onSubmit={onSchedule} />
    </details>
  );
}
