import { useEffect, useReducer, useState } from "preact/hooks";
import { localeOf, useI18n } from "../i18n";
import { formatMeetingId } from "../protocol/messages";
import { upcomingMeetings, type ApiMeeting, type NewApiMeeting } from "../protocol/rest";
import { CopyLink } from "./CopyLink";
import { useLoaded } from "./hooks";
import { MeetingForm } from "./MeetingForm";

export interface UpcomingMeetingsProps {
  /** The user's meetings, from the server; a new function loads them again. */
  load(): Promise<ApiMeeting[]>;
  onJoin(meeting: ApiMeeting): void;
  /** Deletes the meeting on the server (the list is then loaded again by a new `load`). */
  onDelete(meeting: ApiMeeting): Promise<void>;
  /** Changes the meeting on the server (and the list is loaded again). */
  onChange(meeting: ApiMeeting, change: NewApiMeeting): Promise<void>;
  /** "Now", for tests; the clock otherwise. */
  now?: () => Date;
}

/** How often the list looks at the clock again. */
const CLOCK_TICK_MS = 30_000;

/** "Yesterday", "Today", "Tomorrow" (in the page's language), or the weekday and date further
 * off. The past meetings say it too. */
export function dayOf(start: Date, now: Date, locale: string): string {
  const midnight = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((midnight(start) - midnight(now)) / 86_400_000);
  const said =
    days >= -1 && days <= 1
      ? new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(days, "day")
      : new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long" }).format(start);
  return said.charAt(0).toLocaleUpperCase(locale) + said.slice(1);
}

/** Renders the calling list again every {@link CLOCK_TICK_MS}, so what it says follows the clock. */
export function useClockTick(): void {
  const [, tick] = useReducer((n: number, _: void) => n + 1, 0);
  useEffect(() => {
    const timer = setInterval(() => tick(), CLOCK_TICK_MS);
    return () => clearInterval(timer);
  }, []);
}

/** The user's scheduled meetings that have not ended, soonest first, each with a button to start it. */
export function UpcomingMeetings({ load, onJoin, onDelete, onChange, now = () => new Date() }: UpcomingMeetingsProps) {
  const { t, lang } = useI18n();
  const loaded = useLoaded(load);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  /** The meeting being changed, if any (its form shows under it). */
  const [editing, setEditing] = useState<string | null>(null);

  const locale = localeOf(lang);
  const clock = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
  // The list follows the clock: a meeting that starts says so, one that ends goes.
  useClockTick();
  const today = now();
  const at = today.getTime();
  const shown = loaded.status === "loaded" ? upcomingMeetings(loaded.value, today) : [];

  const remove = async (m: ApiMeeting) => {
    if (!(globalThis.confirm?.(t("deleteMeetingConfirm", { topic: m.topic })) ?? true)) return;
    setDeleteError(null);
    try {
      await onDelete(m);
    } catch (err) {
      setDeleteError(t("deleteMeetingFailed", { reason: err instanceof Error ? err.message : String(err) }));
    }
  };

  return (
    <section class="upcoming" aria-labelledby="upcoming-heading" aria-busy={loaded.status === "loading"}>
      <h2 id="upcoming-heading">{t("upcomingMeetings")}</h2>
      {loaded.status === "loading" && <p class="hint">{t("loadingMeetings")}</p>}
      {loaded.status === "failed" && (
        <p role="alert" class="error">
          {t("meetingsFailed", { reason: loaded.reason })}
        </p>
      )}
      {deleteError && (
        <p role="alert" class="error">
          {deleteError}
        </p>
      )}
      {loaded.status === "loaded" && shown.length === 0 && <p class="hint">{t("noUpcomingMeetings")}</p>}
      {shown.length > 0 && (
        <ul>
          {shown.map((m) => {
            const start = new Date(m.start_time!);
            const started = start.getTime() <= at;
            return (
              <li key={m.id}>
                <div class="meeting-line">
                  <strong>{m.topic}</strong>
                  <span>
                    <time dateTime={m.start_time!}>
                      {dayOf(start, today, locale)} {clock.format(start)}
                    </time>
                    {m.duration_minutes ? ` · ${t("minutes", { n: m.duration_minutes })}` : ""}
                    {started ? ` · ${t("meetingInProgress")}` : ""}
                  </span>
                  <span class="hint">
                    {t("meetingIdLabel", { id: formatMeetingId(m.id) })} <CopyLink url={m.join_url} label={t("copyLinkOf", { topic: m.topic })} />
                  </span>
                </div>
                <span class="meeting-actions">
                  <button type="button" class={started ? "primary" : undefined} aria-label={t("startMeetingNamed", { topic: m.topic })} onClick={() => onJoin(m)}>
                    {t("startMeeting")}
                  </button>
                  <button
                    type="button"
                    aria-label={t("editMeetingNamed", { topic: m.topic })}
                    aria-expanded={editing === m.id}
                    onClick={() => setEditing(editing === m.id ? null : m.id)}
                  >
                    {t("editMeeting")}
                  </button>
                  <button type="button" aria-label={t("deleteMeetingNamed", { topic: m.topic })} onClick={() => void remove(m)}>
                    {t("deleteMeeting")}
                  </button>
                </span>
                {editing === m.id && (
                  <MeetingForm
                    idPrefix={`edit-${m.id}`}
                    editing={m}
                    now={now}
                    onSubmit={async (change) => {
                      await onChange(m, change);
                      setEditing(null); // The list shows the change.
                    }}
                    onCancel={() => setEditing(null)}
                  />
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
