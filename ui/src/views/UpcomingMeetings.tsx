import { useEffect, useState } from "preact/hooks";
import { localeOf, useI18n } from "../i18n";
import { formatMeetingId } from "../protocol/messages";
import { upcomingMeetings, type ApiMeeting } from "../protocol/rest";

export interface UpcomingMeetingsProps {
  /** The user's meetings, from the server. */
  load(): Promise<ApiMeeting[]>;
  onJoin(meeting: ApiMeeting): void;
  /** "Now", for tests; the clock otherwise. */
  now?: () => Date;
}

type Loaded = { status: "loading" } | { status: "loaded"; meetings: ApiMeeting[] } | { status: "failed"; reason: string };

/** The user's scheduled meetings that have not ended, soonest first, each with a button to start it. */
export function UpcomingMeetings({ load, onJoin, now = () => new Date() }: UpcomingMeetingsProps) {
  const { t, lang } = useI18n();
  const [loaded, setLoaded] = useState<Loaded>({ status: "loading" });

  useEffect(() => {
    let current = true;
    setLoaded({ status: "loading" });
    load().then(
      (all) => current && setLoaded({ status: "loaded", meetings: upcomingMeetings(all, now()) }),
      (err: unknown) => current && setLoaded({ status: "failed", reason: err instanceof Error ? err.message : String(err) }),
    );
    return () => {
      current = false;
    };
    // `now` is a clock, not an input: a new function each render must not reload.
  }, [load]);

  const when = new Intl.DateTimeFormat(localeOf(lang), { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
  const at = now().getTime();

  return (
    <section class="upcoming" aria-labelledby="upcoming-heading" aria-busy={loaded.status === "loading"}>
      <h2 id="upcoming-heading">{t("upcomingMeetings")}</h2>
      {loaded.status === "loading" && <p class="hint">{t("loadingMeetings")}</p>}
      {loaded.status === "failed" && (
        <p role="alert" class="error">
          {t("meetingsFailed", { reason: loaded.reason })}
        </p>
      )}
      {loaded.status === "loaded" && loaded.meetings.length === 0 && <p class="hint">{t("noUpcomingMeetings")}</p>}
      {loaded.status === "loaded" && loaded.meetings.length > 0 && (
        <ul>
          {loaded.meetings.map((m) => {
            const start = new Date(m.start_time!);
            const started = start.getTime() <= at;
            return (
              <li key={m.id}>
                <div class="meeting-line">
                  <strong>{m.topic}</strong>
                  <span>
                    <time dateTime={m.start_time!}>{when.format(start)}</time>
                    {m.duration_minutes ? ` · ${t("minutes", { n: m.duration_minutes })}` : ""}
                    {started ? ` · ${t("meetingInProgress")}` : ""}
                  </span>
                  <span class="hint">{t("meetingIdLabel", { id: formatMeetingId(m.id) })}</span>
                </div>
                <button type="button" class={started ? "primary" : undefined} aria-label={t("startMeetingNamed", { topic: m.topic })} onClick={() => onJoin(m)}>
                  {t("startMeeting")}
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
