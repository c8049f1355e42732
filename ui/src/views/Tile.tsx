import { useEffect, useRef } from "preact/hooks";
import { useI18n } from "../i18n";
import type { MediaBackend, VideoSource } from "../media/backend";
import type { Feedback, ParticipantInfo, Reaction } from "../protocol/messages";
import type { MeetingActions } from "./actions";

export const REACTION_EMOJI: Record<Reaction, string> = {
  thumbs_up: "👍",
  clap: "👏",
  heart: "❤️",
  laugh: "😂",
  surprised: "😮",
  celebrate: "🎉",
};

/** Feedback shown as text symbols, which every font has (unlike emoji). */
export const FEEDBACK_SYMBOL: Record<Feedback, string> = {
  yes: "✓",
  no: "✗",
  slower: "«",
  faster: "»",
};

export interface TileProps {
  participant: ParticipantInfo;
  source: VideoSource;
  isSelf: boolean;
  speaking: boolean;
  videoOn: boolean;
  media: MediaBackend;
  actions: MeetingActions;
  reaction?: Reaction | undefined;
  large?: boolean;
  /** A host put this participant in the spotlight (shown on their camera tile, not a screen). */
  spotlighted?: boolean;
  /** Whether this tile is pinned as the main one, and how to pin or unpin it (absent: no pin). */
  pinned?: boolean;
  onPin?: (() => void) | undefined;
}

export function Tile({ participant, source, isSelf, speaking, videoOn, media, actions, reaction, large, spotlighted, pinned, onPin }: TileProps) {
  const { t } = useI18n();
  const box = useRef<HTMLDivElement>(null);
  const screen = source.kind === "local-screen" || (source.kind === "remote" && source.track === "screen");
  const name = isSelf ? t("youSuffix", { name: participant.name }) : participant.name;
  const caption = screen ? t("screenOf", { name: participant.name }) : name;
  const hasVideo = videoOn && media.hasVideo(source);

  useEffect(() => {
    if (!box.current || !hasVideo) return;
    return media.attachVideo(box.current, source);
  }, [media, hasVideo, source.kind, source.kind === "remote" ? `${source.participant}/${source.track}` : ""]);

  // Tell the SFU how tall the remote video is drawn, so it forwards the layer that fits;
  // 0 when the tile goes away (paged out, speaker view).
  useEffect(() => {
    if (source.kind !== "remote" || !box.current) return;
    const { participant: pid, track } = source;
    let last = -1;
    const report = (h: number) => {
      if (h === last) return;
      last = h;
      actions.subscribeVideo(pid, track, h);
    };
    if (typeof ResizeObserver === "undefined") return () => report(0);
    const ro = new ResizeObserver((entries) => {
      for (const e of entries) report(Math.round(e.contentRect.height * (globalThis.devicePixelRatio || 1)));
    });
    ro.observe(box.current);
    return () => {
      ro.disconnect();
      report(0);
    };
  }, [actions, source.kind, source.kind === "remote" ? `${source.participant}/${source.track}` : ""]);

  const spotlit = !!spotlighted && !screen;
  const status = [
    spotlit ? t("spotlighted") : null,
    speaking ? t("speaking") : null,
    participant.audio_muted && !screen ? t("micOff") : null,
    participant.hand_raised && !screen ? t("handRaised") : null,
    participant.feedback && !screen ? t("feedbackOf", { answer: t(`feedback_${participant.feedback}`) }) : null,
  ].filter(Boolean);

  return (
    <figure
      class={`tile${speaking ? " speaking" : ""}${isSelf ? " self" : ""}${screen ? " screen" : ""}${large ? " large" : ""}${spotlit ? " spotlit" : ""}`}
      data-participant={participant.id}
      aria-label={[caption, ...status].join(", ")}
    >
      <div class="video" ref={box}>
        {!hasVideo && (
          <span class="avatar" aria-hidden="true">
            {initials(participant.name)}
          </span>
        )}
      </div>
      <figcaption>
        {participant.hand_raised && !screen && <span aria-hidden="true">✋ </span>}
        <span class="name">{caption}</span>
        {spotlit && <span class="spotlight-badge">{t("spotlighted")}</span>}
        {participant.audio_muted && !screen && <MicOffIcon />}
        {participant.feedback && !screen && (
          <span class={`feedback ${participant.feedback}`} aria-hidden="true">
            {FEEDBACK_SYMBOL[participant.feedback]} {t(`feedback_${participant.feedback}`)}
          </span>
        )}
      </figcaption>
      {onPin && (
        <button type="button" class="pin small" aria-pressed={!!pinned} aria-label={t(pinned ? "unpinName" : "pinName", { name: caption })} onClick={onPin}>
          {t(pinned ? "unpin" : "pin")}
        </button>
      )}
      {reaction && (
        <span class="reaction" aria-hidden="true">
          {REACTION_EMOJI[reaction]}
        </span>
      )}
    </figure>
  );
}

/** A crossed-out microphone (drawn, so it shows without an emoji font). */
function MicOffIcon() {
  return (
    <svg class="muted-icon" viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" focusable="false">
      <path d="M12 3a3 3 0 0 0-3 3v5a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z" fill="currentColor" />
      <path d="M6 11a6 6 0 0 0 12 0M12 17v4M8 21h8" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
      <path d="M4 4l16 16" stroke="#ff6b5e" stroke-width="2.5" stroke-linecap="round" />
    </svg>
  );
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0]?.[0] ?? "?";
  const last = parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? "") : "";
  return (first + last).toUpperCase();
}
