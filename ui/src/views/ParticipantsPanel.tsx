import { useState } from "preact/hooks";
import { useI18n } from "../i18n";
import { FEEDBACK, type ChatPolicy, type ParticipantInfo } from "../protocol/messages";
import { amHost, amModerator, type MeetingView } from "../state/store";
import type { MeetingActions } from "./actions";
import { FEEDBACK_SYMBOL } from "./Tile";

export function ParticipantsPanel({ view, actions }: { view: MeetingView; actions: MeetingActions }) {
  const { t } = useI18n();
  const moderator = amModerator(view);
  const host = amHost(view);
  const meeting = view.meeting;
  const raisedHands = view.participants.filter((p) => p.hand_raised);
  // A class is long to scroll: past a handful of people, a search narrows both lists.
  const [query, setQuery] = useState("");
  const searchable = view.participants.length + view.waiting.length > SEARCH_FROM;
  const matches = (name: string) => !searchable || fold(name).includes(fold(query.trim()));
  const waiting = view.waiting.filter((w) => matches(w.name));
  const listed = [...raisedHands, ...view.participants.filter((p) => !p.hand_raised)].filter((p) => matches(p.name));

  const badges = (p: ParticipantInfo) => {
    const out: string[] = [];
    if (p.id === view.me) out.push(t("you"));
    if (p.role === "host") out.push(t("host"));
    if (p.role === "co_host") out.push(t("coHost"));
    if (p.signed_in) out.push(t("signedIn"));
    if (!p.connected) out.push(t("reconnectingParticipant"));
    if (p.audio_muted) out.push(t("micOff"));
    if (!p.video_on) out.push(t("cameraOff"));
    if (p.hand_raised) out.push(t("handRaised"));
    if (p.feedback) out.push(`${FEEDBACK_SYMBOL[p.feedback]} ${t(`feedback_${p.feedback}`)}`);
    return out;
  };
  // How the class answered, at a glance, for whoever asked.
  const answered = view.participants.filter((p) => p.feedback).length;

  return (
    <section class="panel participants" aria-labelledby="participants-heading">
      <h2 id="participants-heading">{t("participantsCount", { count: view.participants.length })}</h2>
      {searchable && (
        <input
          type="search"
          class="participant-search"
          aria-label={t("findParticipant")}
          placeholder={t("findParticipant")}
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
      )}

      {moderator && (
        <section class="waiting-room" aria-labelledby="waiting-heading">
          <h3 id="waiting-heading">{t("waitingRoom")}</h3>
          {view.waiting.length === 0 ? (
            <p class="hint">{t("nobodyWaiting")}</p>
          ) : (
            <>
              <ul>
                {waiting.map((w) => (
                  <li key={w.id}>
                    <span class="name">{w.name}</span>
                    <button type="button" onClick={() => actions.admit(w.id)} aria-label={t("admitName", { name: w.name })}>
                      {t("admit")}
                    </button>
                    <button type="button" onClick={() => actions.deny(w.id)} aria-label={t("denyName", { name: w.name })}>
                      {t("deny")}
                    </button>
                  </li>
                ))}
              </ul>
              <button type="button" onClick={() => actions.admitAll()}>
                {t("admitAll")}
              </button>
            </>
          )}
        </section>
      )}

      {moderator && meeting && (
        <section class="host-controls" aria-label={t("hostControls")}>
          <button type="button" aria-pressed={meeting.locked} onClick={() => actions.setLocked(!meeting.locked)}>
            {meeting.locked ? t("unlockMeeting") : t("lockMeeting")}
          </button>
          <button type="button" onClick={() => actions.muteAll()}>
            {t("muteAll")}
          </button>
          {meeting.spotlight === null ? (
            <button type="button" onClick={() => view.me !== null && actions.setSpotlight(view.me)}>
              {t("spotlightMe")}
            </button>
          ) : (
            <button type="button" onClick={() => actions.setSpotlight(null)}>
              {t("endSpotlight")}
            </button>
          )}
          {raisedHands.length > 1 && (
            <button type="button" onClick={() => raisedHands.forEach((p) => actions.lowerHand(p.id))}>
              {t("lowerAllHands", { count: raisedHands.length })}
            </button>
          )}
          {answered > 0 && (
            <div class="feedback-summary" role="group" aria-label={t("feedback")}>
              <ul>
                {FEEDBACK.map((f) => (
                  <li key={f}>
                    <span aria-hidden="true">{FEEDBACK_SYMBOL[f]} </span>
                    {t("feedbackCount", { answer: t(`feedback_${f}`), count: view.participants.filter((p) => p.feedback === f).length })}
                  </li>
                ))}
              </ul>
              <button type="button" onClick={() => actions.clearFeedback()}>
                {t("clearFeedback")}
              </button>
            </div>
          )}
          <label for="chat-policy">{t("chatPolicy")}</label>
          <select
            id="chat-policy"
            value={meeting.chat_policy}
            onChange={(e) => actions.setChatPolicy(e.currentTarget.value as ChatPolicy)}
          >
            <option value="everyone">{t("chatPolicy_everyone")}</option>
            <option value="hosts_only">{t("chatPolicy_hosts_only")}</option>
            <option value="off">{t("chatPolicy_off")}</option>
          </select>
          <fieldset class="security">
            <legend>{t("security")}</legend>
            <Setting
              label={t("allowShare")}
              on={meeting.share_policy === "everyone"}
              onToggle={(on) => actions.setSharePolicy(on ? "everyone" : "hosts_only")}
            />
            <Setting label={t("allowSelfUnmute")} on={meeting.self_unmute} onToggle={(on) => actions.setSelfUnmute(on)} />
            <Setting label={t("muteOnEntry")} on={meeting.mute_on_entry} onToggle={(on) => actions.setMuteOnEntry(on)} />
          </fieldset>
        </section>
      )}

      <ul class="roster">
        {/* Raised hands first, so a teacher sees who wants to speak; otherwise in join order. */}
        {listed.map((p) => {
          const name = p.name;
          const other = p.id !== view.me;
          return (
            <li key={p.id} data-participant={p.id} class={p.hand_raised ? "hand" : undefined}>
              <span class="name">{name}</span>
              {badges(p).length > 0 && <span class="badges"> ({badges(p).join(", ")})</span>}
              {moderator && other && (
                <span class="actions" role="group" aria-label={t("actionsFor", { name })}>
                  {/* What a host does most (mute, lower a hand) at hand, named with whom it acts
                      on; the rest behind "More for {name}", inside this group named for them. */}
                  {p.audio_muted ? (
                    <button type="button" aria-label={t("askToUnmute", { name })} onClick={() => actions.askToUnmute(p.id)}>
                      {t("askToUnmuteShort")}
                    </button>
                  ) : (
                    <button type="button" aria-label={t("muteParticipant", { name })} onClick={() => actions.mute(p.id)}>
                      {t("mute")}
                    </button>
                  )}
                  {p.hand_raised && (
                    <button type="button" aria-label={t("lowerHandOf", { name })} onClick={() => actions.lowerHand(p.id)}>
                      {t("lowerHand")}
                    </button>
                  )}
                  {(host || p.role !== "host") && (
                    <details class="more">
                      <summary aria-label={t("moreFor", { name })}>{t("more")}</summary>
                      <div class="menu">
                        {host && p.role === "participant" && (
                          <button type="button" onClick={() => actions.setRole(p.id, "co_host")}>
                            {t("makeCoHost")}
                          </button>
                        )}
                        {host && p.role === "co_host" && (
                          <button type="button" onClick={() => actions.setRole(p.id, "participant")}>
                            {t("revokeCoHost")}
                          </button>
                        )}
                        {host && (
                          <button type="button" onClick={() => actions.handOverHost(p.id)}>
                            {t("makeHost")}
                          </button>
                        )}
                        {meeting?.spotlight === p.id ? (
                          <button type="button" onClick={() => actions.setSpotlight(null)}>
                            {t("endSpotlight")}
                          </button>
                        ) : (
                          <button type="button" onClick={() => actions.setSpotlight(p.id)}>
                            {t("spotlight")}
                          </button>
                        )}
                        {p.role !== "host" && (
                          <>
                            <button type="button" onClick={() => actions.sendToWaitingRoom(p.id)}>
                              {t("sendToWaitingRoom")}
                            </button>
                            <button
                              type="button"
                              class="danger"
                             
                              onClick={() => {
                                if (globalThis.confirm?.(t("removeConfirm", { name })) ?? true) actions.remove(p.id);
                              }}
                            >
                              {t("removeParticipant")}
                            </button>
                          </>
                        )}
                      </div>
                    </details>
                  )}
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** One of the meeting's settings as a checkbox that shows what the server last said
 * (`meeting_updated`): a press asks the server and puts the box back, so that it never claims a
 * setting the server refused or has not applied yet. */
function Setting({ label, on, onToggle }: { label: string; on: boolean; onToggle(on: boolean): void }) {
  return (
    <label class="check">
      <input
        type="checkbox"
        checked={on}
        onChange={(e) => {
          const wanted = e.currentTarget.checked;
          e.currentTarget.checked = on;
          onToggle(wanted);
        }}
      />
      {label}
    </label>
  );
}

/** From how many people (in the meeting and waiting) the panel offers a search. */
const SEARCH_FROM = 8;

/** A name as the search compares it: case and accents aside ("Åse" is found by "ase"), and
 * Norwegian letters too ("Øyvind" by "oyvind", "Ærlig" by "aerlig"). */
function fold(name: string): string {
  return name
    .toLowerCase()
    .replace(/æ/g, "ae")
    .replace(/ø/g, "o")
    .normalize("NFD")
    .replace(/\p{M}/gu, "");
}
