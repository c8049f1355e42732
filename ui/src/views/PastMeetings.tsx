import { useEffect, useRef, useState } from "preact/hooks";
import { localeOf, useI18n } from "../i18n";
import { meetingTime, pastMeetings, type ApiAttendee, type ApiMeeting } from "../protocol/rest";
import { useLoaded } from "./hooks";
import { dayOf, useClockTick } from "./UpcomingMeetings";

export interface PastMeetingsProps {
  /** The user's meetings, from the server (the same load as the upcoming list's). */
  load(): Promise<ApiMeeting[]>;
  /** Who was in the meeting, from the server. */
  attendance(meeting: ApiMeeting): Promise<ApiAttendee[]>;
  /** The same attendance as the server's CSV. */
  attendanceCsv(meeting: ApiMeeting): Promise<string>;
  /** "Now", for tests; the clock otherwise. */
  now?: () => Date;
}

/** The user's meetings of the last 30 days, newest first, each with its attendance to look at,
 * save as a file or copy for a spreadsheet (what universities keep for seminars). */
export function PastMeetings({ load, attendance, attendanceCsv, now = () => new Date() }: PastMeetingsProps) {
  const { t, lang } = useI18n();
  const loaded = useLoaded(load);
  /** The meeting whose attendance shows under it, if any. */
  const [open, setOpen] = useState<string | null>(null);
  /** Each row's Attendance button, to go back to when its attendance is closed. */
  const toggles = useRef(new Map<string, HTMLButtonElement>());

  // A meeting that ends moves here from the upcoming list without a reload.
  useClockTick();
  const locale = localeOf(lang);
  const clock = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
  const today = now();
  const shown = loaded.status === "loaded" ? pastMeetings(loaded.value, today) : [];

  const close = (m: ApiMeeting) => {
    setOpen(null);
    toggles.current.get(m.id)?.focus();
  };

  return (
    <section class="past" aria-labelledby="past-heading" aria-busy={loaded.status === "loading"}>
      <h2 id="past-heading">{t("pastMeetings")}</h2>
      {loaded.status === "loading" && <p class="hint">{t("loadingMeetings")}</p>}
      {/* Not an alert: the upcoming list above already says it aloud. */}
      {loaded.status === "failed" && <p class="error">{t("meetingsFailed", { reason: loaded.reason })}</p>}
      {loaded.status === "loaded" && shown.length === 0 && <p class="hint">{t("noPastMeetings")}</p>}
      {shown.length > 0 && (
        <ul>
          {shown.map((m) => {
            const when = new Date(meetingTime(m));
            return (
              <li key={m.id}>
                <div class="meeting-line">
                  <strong>{m.topic}</strong>
                  <span>
                    <time dateTime={when.toISOString()}>
                      {dayOf(when, today, locale)} {clock.format(when)}
                    </time>
                    {m.start_time !== null && m.duration_minutes ? ` · ${t("minutes", { n: m.duration_minutes })}` : ""}
                  </span>
                </div>
                <span class="meeting-actions">
                  <button
                    type="button"
                    ref={(el) => {
                      if (el) toggles.current.set(m.id, el);
                      else toggles.current.delete(m.id);
                    }}
                    aria-label={t("attendanceNamed", { topic: m.topic })}
                    aria-expanded={open === m.id}
                    aria-controls={open === m.id ? `attendance-${m.id}` : undefined}
                    onClick={() => setOpen(open === m.id ? null : m.id)}
                  >
                    {t("attendance")}
                  </button>
                </span>
                {open === m.id && <Attendance meeting={m} load={attendance} loadCsv={attendanceCsv} onClose={() => close(m)} />}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

type Report = { status: "loading" } | { status: "loaded"; people: ApiAttendee[]; csv: string } | { status: "failed"; reason: string };

/** How long "CSV copied." shows after a copy (as a copied link's). */
const SAID_FOR_MS = 3000;
/** How long a downloaded file's object URL is kept: the browser reads it after the click. */
const DOWNLOAD_URL_KEPT_MS = 60_000;

interface AttendanceProps {
  meeting: ApiMeeting;
  load(meeting: ApiMeeting): Promise<ApiAttendee[]>;
  loadCsv(meeting: ApiMeeting): Promise<string>;
  onClose(): void;
}

/** One meeting's attendance as a table, with the server's CSV to save or copy. */
function Attendance({ meeting, load, loadCsv, onClose }: AttendanceProps) {
  const { t, lang } = useI18n();
  const [report, setReport] = useState<Report>({ status: "loading" });
  const [copied, setCopied] = useState(false);

  // The CSV is fetched along with the table, not when a button is pressed: a clipboard write or
  // a download after waiting for the network has lost the click that allowed it in WebKit (the
  // desktop app). It also keeps the file the same as the table shown.
  useEffect(() => {
    let current = true;
    setReport({ status: "loading" });
    Promise.all([load(meeting), loadCsv(meeting)]).then(
      ([people, csv]) => current && setReport({ status: "loaded", people, csv }),
      (err: unknown) => current && setReport({ status: "failed", reason: err instanceof Error ? err.message : String(err) }),
    );
    return () => {
      current = false;
    };
  }, [meeting.id, load, loadCsv]);

  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), SAID_FOR_MS);
    return () => clearTimeout(timer);
  }, [copied]);

  const clock = new Intl.DateTimeFormat(localeOf(lang), { hour: "2-digit", minute: "2-digit" });
  /** A time of day, or the server's text as it is if it is not a time. */
  const timeOf = (iso: string) => {
    const at = Date.parse(iso);
    return <time dateTime={iso}>{Number.isNaN(at) ? iso : clock.format(at)}</time>;
  };

  const download = (csv: string) => {
    // The byte-order mark the server sent (reading the response as text dropped it), without
    // which Excel reads UTF-8 as Windows-1252 and "Øyvind" comes out garbled.
    const url = URL.createObjectURL(new Blob(["\ufeff", csv], { type: "text/csv;charset=utf-8" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `attendance-${meeting.id}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), DOWNLOAD_URL_KEPT_MS);
  };
  const copy = (csv: string) =>
    void globalThis.navigator?.clipboard
      ?.writeText(csv)
      .then(() => setCopied(true))
      .catch(() => {});

  const topic = meeting.topic;
  return (
    <div id={`attendance-${meeting.id}`} class="attendance" aria-busy={report.status === "loading"}>
      {report.status === "loading" && <p class="hint">{t("loadingAttendance")}</p>}
      {report.status === "failed" && (
        <p role="alert" class="error">
          {t("attendanceFailed", { reason: report.reason })}
        </p>
      )}
      {report.status === "loaded" && report.people.length === 0 && <p>{t("noAttendees")}</p>}
      {report.status === "loaded" && report.people.length > 0 && (
        // Scrolls sideways on a narrow screen; focusable so a keyboard can scroll it too.
        <div class="table-scroll" tabIndex={0} role="region" aria-label={t("attendanceNamed", { topic })}>
          <table>
            <caption>{t("attendanceNamed", { topic })}</caption>
            <thead>
              <tr>
                <th scope="col">{t("attendeeName")}</th>
                <th scope="col">{t("attendeeEmail")}</th>
                <th scope="col">{t("attendeeFirstJoined")}</th>
                <th scope="col">{t("attendeeLeft")}</th>
                <th scope="col" class="number">
                  {t("attendeeMinutes")}
                </th>
                <th scope="col" class="number">
                  {t("attendeeVisits")}
                </th>
              </tr>
            </thead>
            <tbody>
              {report.people.map((p, i) => (
                <tr key={i}>
                  <th scope="row">{p.name}</th>
                  <td class={p.email === null ? "hint" : undefined}>{p.email ?? t("attendeeGuest")}</td>
                  <td>{timeOf(p.first_joined)}</td>
                  <td class={p.last_left === null ? "hint" : undefined}>{p.last_left === null ? t("attendeeStillIn") : timeOf(p.last_left)}</td>
                  <td class="number">{p.minutes}</td>
                  <td class="number">{p.times_joined}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="attendance-actions">
        {report.status === "loaded" && (
          <>
            <button type="button" aria-label={t("downloadCsvNamed", { topic })} onClick={() => download(report.csv)}>
              {t("downloadCsv")}
            </button>
            <button type="button" aria-label={t("copyCsvNamed", { topic })} onClick={() => copy(report.csv)}>
              {t("copyCsv")}
            </button>
            <span class="copied" role="status">
              {copied ? t("csvCopied") : ""}
            </span>
          </>
        )}
        <button type="button" class="close" aria-label={t("closeAttendanceNamed", { topic })} onClick={onClose}>
          {t("close")}
        </button>
      </div>
    </div>
  );
}
