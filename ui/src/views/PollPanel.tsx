import { useEffect, useRef, useState } from "preact/hooks";
import { localeOf, useI18n } from "../i18n";
import { MAX_POLL_OPTION_CHARS, MAX_POLL_OPTIONS, MAX_POLL_QUESTION_CHARS, type PollView } from "../protocol/messages";
import { amModerator, type MeetingView, type StoreAction } from "../state/store";
import type { MeetingActions } from "./actions";

/** A poll asks for a choice: fewer answers than this is no question (the server's rule too). */
const MIN_POLL_OPTIONS = 2;

export interface PollPanelProps {
  view: MeetingView;
  actions: MeetingActions;
  dispatch(action: StoreAction): void;
}

/** The meeting's poll: hosts and co-hosts put a question and follow the answers; participants
 * answer it, and see how the class answered once a host shares it. */
export function PollPanel({ view, actions, dispatch }: PollPanelProps) {
  const { t } = useI18n();
  const poll = view.poll;
  const moderator = amModerator(view);
  /** The ended poll after which the host pressed New poll: the form shows until a newer one comes. */
  const [newAfter, setNewAfter] = useState<number | null>(null);
  const composing = moderator && (!poll || (!poll.open && newAfter === poll.id));

  return (
    <section class="panel poll" aria-labelledby="poll-heading">
      <h2 id="poll-heading">{t("poll")}</h2>
      {composing ? (
        <PollForm view={view} actions={actions} dispatch={dispatch} focusFirst={poll !== null} />
      ) : poll && moderator ? (
        <HostPoll poll={poll} actions={actions} onNew={() => setNewAfter(poll.id)} />
      ) : poll ? (
        // A new poll starts with nothing picked.
        <AnswerPoll key={poll.id} poll={poll} actions={actions} />
      ) : null}
    </section>
  );
}

/** Characters as the server counts them (Unicode scalar values), not UTF-16 units. */
const chars = (s: string) => [...s].length;

interface Problem {
  text: string;
  /** The id of the field to fix, if one. */
  field: string | null;
}

const optionId = (i: number) => `poll-option-${i}`;

function PollForm({ view, actions, dispatch, focusFirst }: PollPanelProps & { focusFirst: boolean }) {
  const { t } = useI18n();
  const [question, setQuestion] = useState("");
  const [options, setOptions] = useState<string[]>(["", ""]);
  const [multiple, setMultiple] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  /** The first notice id that can be the server's answer to the start_poll sent, while waiting. */
  const [sentFrom, setSentFrom] = useState<number | null>(null);
  const form = useRef<HTMLFormElement>(null);
  /** The field to focus after the next render (a new answer, or the one before a removed one). */
  const focusNext = useRef<string | null>(null);

  const focus = (id: string) => form.current?.querySelector<HTMLElement>(`#${id}`)?.focus();
  useEffect(() => {
    // Opened by New poll, whose button is gone: the question is where to go on.
    if (focusFirst) focus("poll-question");
  }, []);
  useEffect(() => {
    if (focusNext.current) focus(focusNext.current);
    focusNext.current = null;
  });
  // A refusal from the server is shown here, by the form, rather than as a passing notice.
  useEffect(() => {
    if (sentFrom === null) return;
    const refused = view.notices.find((n) => n.kind === "error" && n.id >= sentFrom);
    if (refused?.kind !== "error") return;
    setSentFrom(null);
    setProblem({
      text: refused.code === "not_allowed" ? t("error_not_allowed") : t("pollRefused", { message: refused.message || refused.code }),
      field: null,
    });
    dispatch({ type: "local/dismiss_notice", id: refused.id });
  }, [view.notices, sentFrom]);

  const check = (q: string, filled: { text: string; i: number }[]): Problem | null => {
    if (!q) return { text: t("pollQuestionMissing"), field: "poll-question" };
    if (chars(q) > MAX_POLL_QUESTION_CHARS) return { text: t("pollQuestionTooLong", { max: MAX_POLL_QUESTION_CHARS }), field: "poll-question" };
    if (filled.length < MIN_POLL_OPTIONS) {
      return { text: t("pollTooFewOptions"), field: optionId(Math.max(0, options.findIndex((o) => !o.trim()))) };
    }
    const long = filled.find((o) => chars(o.text) > MAX_POLL_OPTION_CHARS);
    if (long) return { text: t("pollOptionTooLong", { n: long.i + 1, max: MAX_POLL_OPTION_CHARS }), field: optionId(long.i) };
    return null;
  };

  const submit = (e: Event) => {
    e.preventDefault();
    const q = question.trim();
    // Answer fields left empty are dropped, wherever they are.
    const filled = options.map((o, i) => ({ text: o.trim(), i })).filter((o) => o.text);
    const bad = check(q, filled);
    setProblem(bad);
    if (bad) {
      if (bad.field) focus(bad.field);
      return;
    }
    setSentFrom(view.nextId);
    actions.startPoll(q, filled.map((o) => o.text), multiple);
  };

  const invalid = (id: string) => (problem?.field === id ? { "aria-invalid": true, "aria-describedby": "poll-form-error" } : {});

  return (
    <form class="poll-form" ref={form} onSubmit={submit} noValidate>
      <label for="poll-question">{t("pollQuestion")}</label>
      <textarea id="poll-question" rows={2} value={question} onInput={(e) => setQuestion(e.currentTarget.value)} {...invalid("poll-question")} />
      <fieldset class="poll-options">
        <legend>{t("pollOptions")}</legend>
        {options.map((o, i) => (
          <div class="poll-option" key={i}>
            <label for={optionId(i)}>{t("pollOptionN", { n: i + 1 })}</label>
            <input
              id={optionId(i)}
              value={o}
              autocomplete="off"
              onInput={(e) => {
                const value = e.currentTarget.value;
                setOptions((all) => all.map((x, j) => (j === i ? value : x)));
              }}
              {...invalid(optionId(i))}
            />
            {i >= MIN_POLL_OPTIONS && (
              <button
                type="button"
                aria-label={t("pollRemoveOptionN", { n: i + 1 })}
                onClick={() => {
                  focusNext.current = optionId(i - 1);
                  setOptions((all) => all.filter((_, j) => j !== i));
                }}
              >
                {t("pollRemoveOption")}
              </button>
            )}
          </div>
        ))}
        {options.length < MAX_POLL_OPTIONS ? (
          <button
            type="button"
            onClick={() => {
              focusNext.current = optionId(options.length);
              setOptions((all) => [...all, ""]);
            }}
          >
            {t("pollAddOption")}
          </button>
        ) : (
          <p class="hint">{t("pollMaxOptions", { max: MAX_POLL_OPTIONS })}</p>
        )}
      </fieldset>
      <label class="check">
        <input type="checkbox" checked={multiple} onChange={(e) => setMultiple(e.currentTarget.checked)} /> {t("pollMultiple")}
      </label>
      <p id="poll-form-error" role="alert" class="error">
        {problem?.text}
      </p>
      <button type="submit">
        {t("pollStart")}
      </button>
    </form>
  );
}

/** The host's side: how the answers stand, End while open; Share and New poll after. */
function HostPoll({ poll, actions, onNew }: { poll: PollView; actions: MeetingActions; onNew(): void }) {
  const { t } = useI18n();
  return (
    <>
      <p class="poll-question">{poll.question}</p>
      {!poll.open && <p role="status">{t("pollEnded")}</p>}
      <PollResults poll={poll} />
      <p class="poll-answered">{t("pollAnswered", { count: poll.answered })}</p>
      <div class="row">
        {/* One button in one place, End then Share then shared, so that focus stays on it. */}
        {poll.open ? (
          <button type="button" onClick={() => actions.endPoll(poll.id)}>
            {t("pollEnd")}
          </button>
        ) : (
          <button
            type="button"
            aria-disabled={poll.shared || undefined}
            onClick={() => {
              if (!poll.shared) actions.sharePollResults(poll.id);
            }}
          >
            {poll.shared ? t("pollSharedDone") : t("pollShare")}
          </button>
        )}
        {!poll.open && (
          <button type="button" onClick={onNew}>
            {t("pollNew")}
          </button>
        )}
      </div>
    </>
  );
}

const sameChoices = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x) => b.includes(x));

/** A participant's side: the question to answer while open; the shared results after. */
function AnswerPoll({ poll, actions }: { poll: PollView; actions: MeetingActions }) {
  const { t } = useI18n();
  const [picked, setPicked] = useState<number[]>(poll.mine);
  /** Nothing new to send: nothing picked, or just what the server has. */
  const unsendable = picked.length === 0 || sameChoices(picked, poll.mine);

  if (!poll.open) {
    return (
      <>
        <p class="poll-question">{poll.question}</p>
        <p role="status">{t("pollEnded")}</p>
        {poll.results ? (
          <>
            <PollResults poll={poll} />
            <p class="poll-answered">{t("pollAnswered", { count: poll.answered })}</p>
          </>
        ) : (
          <>
            {poll.mine.length > 0 && <p>{t("pollYouAnswered", { answer: poll.mine.map((i) => poll.options[i] ?? "").join(", ") })}</p>}
            <p class="hint">{t("pollNotShared")}</p>
          </>
        )}
      </>
    );
  }

  const submit = (e: Event) => {
    e.preventDefault();
    if (unsendable) return;
    actions.vote(poll.id, [...picked].sort((a, b) => a - b));
  };
  const pick = (i: number, on: boolean) => {
    if (!poll.multiple) setPicked([i]);
    else setPicked((all) => (on ? [...all.filter((x) => x !== i), i] : all.filter((x) => x !== i)));
  };

  return (
    <form class="poll-answer" onSubmit={submit}>
      <fieldset aria-describedby={poll.multiple ? "poll-choose-many" : undefined}>
        <legend>{poll.question}</legend>
        {poll.multiple && (
          <p id="poll-choose-many" class="hint">
            {t("pollChooseMany")}
          </p>
        )}
        {poll.options.map((option, i) => (
          <label key={i} class="check">
            <input
              type={poll.multiple ? "checkbox" : "radio"}
              name={`poll-${poll.id}`}
              value={String(i)}
              checked={picked.includes(i)}
              onChange={(e) => pick(i, e.currentTarget.checked)}
            />{" "}
            {option}
          </label>
        ))}
      </fieldset>
      <p role="status">{poll.mine.length > 0 ? t("pollAnswerIn") : ""}</p>
      <button type="submit" aria-disabled={unsendable || undefined}>
        {t("pollSend")}
      </button>
      {poll.results && <PollResults poll={poll} />}
    </form>
  );
}

/** Each answer with how many picked it, in words and figures (a bar beside, for the eye). */
function PollResults({ poll }: { poll: PollView }) {
  const { t, lang } = useI18n();
  const percent = new Intl.NumberFormat(localeOf(lang), { style: "percent", maximumFractionDigits: 0 });
  return (
    <ol class="poll-results" aria-label={t("pollResults")}>
      {poll.options.map((option, i) => {
        const count = poll.results?.[i];
        // Of those who answered: with more than one answer allowed, the shares add up to more than 100 %.
        const share = count !== undefined && poll.answered > 0 ? Math.min(1, count / poll.answered) : 0;
        return (
          <li key={i} class={poll.mine.includes(i) ? "mine" : undefined}>
            <span class="option">
              {option}
              {poll.mine.includes(i) && <span class="hint"> ({t("pollYourAnswer")})</span>}
            </span>{" "}
            {count !== undefined && (
              <>
                <span class="count">{t("pollResultCount", { count, percent: percent.format(share) })}</span>
                <span class="poll-bar" aria-hidden="true">
                  <span style={{ width: `${share * 100}%` }} />
                </span>
              </>
            )}
          </li>
        );
      })}
    </ol>
  );
}
