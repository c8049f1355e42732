import { useEffect, useRef, useState } from "preact/hooks";
import { localeOf, useI18n } from "../i18n";
import type { ChatTarget } from "../protocol/messages";
import { canChat, chatAudience, type MeetingView } from "../state/store";
import type { MeetingActions } from "./actions";

export function ChatPanel({ view, actions }: { view: MeetingView; actions: MeetingActions }) {
  const { t, lang } = useI18n();
  const [text, setText] = useState("");
  const [chosen, setTo] = useState("everyone");
  // Under "hosts only", participants can write to the hosts alone.
  const to = chosen === "everyone" && !canChat(view, "everyone") ? "hosts" : chosen;
  const log = useRef<HTMLOListElement>(null);
  const others = view.participants.filter((p) => p.id !== view.me);

  useEffect(() => {
    if (log.current) log.current.scrollTop = log.current.scrollHeight;
  }, [view.chat.length]);

  const target = (): ChatTarget =>
    to === "everyone" ? { kind: "everyone" } : to === "hosts" ? { kind: "hosts" } : { kind: "participant", id: Number(to) };
  const allowed = canChat(view, target().kind);
  const time = new Intl.DateTimeFormat(localeOf(lang), { hour: "2-digit", minute: "2-digit" });

  const submit = (e: Event) => {
    e.preventDefault();
    const body = text.trim();
    if (!body || !allowed) return;
    actions.chat(target(), body);
    setText("");
  };

  return (
    <section class="panel chat" aria-labelledby="chat-heading">
      <h2 id="chat-heading">{t("chat")}</h2>
      <ol class="chat-log" ref={log} aria-live="polite">
        {view.chat.length === 0 && <li class="hint">{t("noMessages")}</li>}
        {view.chat.map((m) => {
          const a = chatAudience(view, m);
          const label =
            a.kind === "hosts"
              ? t("toHosts")
              : a.kind === "private_to_me"
                ? t("privateFromTo")
                : a.kind === "private_from_me"
                  ? t("privateTo", { name: a.to })
                  : a.kind === "private_other"
                    ? t("privateTo", { name: a.to })
                    : null;
          const at = new Date(m.sent_at_ms);
          return (
            <li key={m.seq} class={a.kind === "everyone" ? undefined : "private"}>
              <span class="from">{m.from_name}</span>
              {label && <span class="audience"> · {label}</span>}{" "}
              <time dateTime={at.toISOString()}>{time.format(at)}</time>
              <p>{m.text}</p>
            </li>
          );
        })}
      </ol>
      {!canChat(view, "hosts") && !canChat(view, "everyone") ? (
        <p class="hint">{t("chatDisabled")}</p>
      ) : (
        <form onSubmit={submit}>
          <label for="chat-to">{t("chatTo")}</label>
          <select id="chat-to" value={to} onChange={(e) => setTo(e.currentTarget.value)}>
            {canChat(view, "everyone") && <option value="everyone">{t("everyone")}</option>}
            <option value="hosts">{t("hostsOnly")}</option>
            {canChat(view, "participant") &&
              others.map((p) => (
                <option key={p.id} value={String(p.id)}>
                  {p.name}
                </option>
              ))}
          </select>
          <input
            id="chat-text"
            value={text}
            maxLength={4000}
            autocomplete="off"
            placeholder={t("writeMessage")}
            aria-label={t("writeMessage")}
            onInput={(e) => setText(e.currentTarget.value)}
          />
          <button type="submit" disabled={!allowed}>
            {t("send")}
          </button>
        </form>
      )}
    </section>
  );
}
