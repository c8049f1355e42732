import { useState } from "preact/hooks";
import { useI18n } from "../i18n";
import type { NewApiMeeting } from "../protocol/rest";

export interface ScheduleMeetingProps {
  /** Creates the meeting on the server; rejects with the server's reason. */
  onSchedule(meeting: NewApiMeeting): Promise<void>;
  /** "Now", for tests; the clock otherwise. */
  now?: () => Date;
}

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

/** Schedules a meeting for later: topic, start (in the user's time zone), length, passcode and
 * waiting room. Folded away until asked for, as most visits only join or start. */
export function ScheduleMeeting({ onSchedule, now = () => new Date() }: ScheduleMeetingProps) {
  const { t } = useI18n();
  const [topic, setTopic] = useState("");
  const [startsAt, setStartsAt] = useState(() => localInputValue(nextHour(now())));
  const [minutes, setMinutes] = useState(90);
  const [passcode, setPasscode] = useState("");
  const [waitingRoom, setWaitingRoom] = useState(true);
  const [status, setStatus] = useState<{ text: string; error: boolean } | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    // A datetime-local value without a zone is read as the user's local time.
    const start = new Date(startsAt);
    if (Number.isNaN(start.getTime()) || start.getTime() <= now().getTime()) {
      setStatus({ text: t("startInPast"), error: true });
      return;
    }
    setStatus({ text: t("creating"), error: false });
    try {
      await onSchedule({
        topic: topic.trim() || t("meeting"),
        start_time: start.toISOString(),
        duration_minutes: minutes,
        waiting_room: waitingRoom,
        ...(passcode ? { passcode } : {}),
      });
      setStatus({ text: t("meetingScheduled"), error: false });
      setTopic("");
      setPasscode("");
    } catch (err) {
      setStatus({ text: t("scheduleFailed", { reason: err instanceof Error ? err.message : String(err) }), error: true });
    }
  };

  return (
    <details class="schedule">
      <summary>{t("scheduleMeeting")}</summary>
      <form onSubmit={submit} aria-label={t("scheduleMeeting")}>
        <label for="schedule-topic">{t("meetingTopic")}</label>
        <input id="schedule-topic" value={topic} maxLength={200} onInput={(e) => setTopic(e.currentTarget.value)} />
        <label for="schedule-start">{t("startsAt")}</label>
        <input id="schedule-start" type="datetime-local" required value={startsAt} onInput={(e) => setStartsAt(e.currentTarget.value)} />
        <label for="schedule-duration">{t("duration")}</label>
        <select id="schedule-duration" value={minutes} onChange={(e) => setMinutes(Number(e.currentTarget.value))}>
          {DURATIONS.map((m) => (
            <option key={m} value={m}>
              {t("minutes", { n: m })}
            </option>
          ))}
        </select>
        <label for="schedule-passcode">{t("passcodeOptional")}</label>
        <input
          id="schedule-passcode"
          value={passcode}
          maxLength={32}
          autocomplete="off"
          onInput={(e) => setPasscode(e.currentTarget.value)}
        />
        <label class="check">
          <input type="checkbox" checked={waitingRoom} onChange={(e) => setWaitingRoom(e.currentTarget.checked)} />
          {t("useWaitingRoom")}
        </label>
        <p role="status" class={status?.error ? "error" : undefined}>
          {status?.text}
        </p>
        <button type="submit">{t("schedule")}</button>
      </form>
    </details>
  );
}
