import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { useI18n } from "../i18n";
import { ScreenShareError, type MediaBackend, type MediaDeviceOption, type ShareTarget, type VideoSource } from "../media/backend";
import { FEEDBACK, REACTIONS, formatMeetingId, type ParticipantInfo, type Reaction } from "../protocol/messages";
import { amHost, amModerator, mayShare, mayUnmute, me as meOf, type MeetingView, type Notice, type StoreAction } from "../state/store";
import type { MeetingActions } from "./actions";
import { DevicesMenu } from "./DevicesMenu";
import { ChatPanel } from "./ChatPanel";
import { CopyLink } from "./CopyLink";
import { useMedia, useMenusClose, useShortcuts } from "./hooks";
import { deviceErrorText } from "./deviceError";
import { ParticipantsPanel } from "./ParticipantsPanel";
import { PollPanel } from "./PollPanel";
import { ShareDialog } from "./ShareDialog";
import { FEEDBACK_SYMBOL, REACTION_EMOJI, Tile } from "./Tile";

/** At most 7 × 7 tiles on one gallery page. */
export const PAGE_SIZE = 49;
const TILE_GAP_PX = 8;
const TILE_RATIO = 16 / 9;

/** The largest 16:9 tiles that fit `n` of them in a `width` × `height` area: their columns
 * and size in CSS pixels. */
export function fitTiles(n: number, width: number, height: number, gap = TILE_GAP_PX, ratio = TILE_RATIO): { cols: number; w: number; h: number } {
  let best = { cols: 1, w: 0, h: 0 };
  const count = Math.max(1, n);
  for (let cols = 1; cols <= count; cols++) {
    const rows = Math.ceil(count / cols);
    const w = Math.min((width - gap * (cols - 1)) / cols, ((height - gap * (rows - 1)) / rows) * ratio);
    if (w > best.w) best = { cols, w, h: w / ratio };
  }
  return { cols: best.cols, w: Math.max(0, Math.floor(best.w)), h: Math.max(0, Math.floor(best.h)) };
}

/** Measures an element and re-measures when it changes size. */
function useSize(key: unknown): [{ current: HTMLDivElement | null }, { width: number; height: number } | null] {
  const ref = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState<{ width: number; height: number } | null>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver((entries) => {
      for (const e of entries) setSize({ width: e.contentRect.width, height: e.contentRect.height });
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [key]);
  return [ref, size];
}
const REACTION_MS = 5000;
const NOTICE_MS = 8000;

interface TileSpec {
  key: string;
  participant: ParticipantInfo;
  source: VideoSource;
  isSelf: boolean;
  videoOn: boolean;
}

export interface MeetingProps {
  view: MeetingView;
  media: MediaBackend;
  actions: MeetingActions;
  dispatch(action: StoreAction): void;
  onLeave(): void;
  reconnecting: boolean;
  /** The link others join by, shown in the header with a copy button. */
  joinUrl?: string | undefined;
  /** The devices for the meeting's microphone, speaker and camera pickers. */
  devices?: MediaDeviceOption[];
}

export function Meeting({ view, media, actions, dispatch, onLeave, reconnecting, joinUrl, devices = [] }: MeetingProps) {
  const { t } = useI18n();
  const local = useMedia(media);
  const [layout, setLayout] = useState<"gallery" | "speaker">("gallery");
  /** The tile the user pinned as the main one (its key), whoever speaks. */
  const [pinned, setPinned] = useState<string | null>(null);
  const spotlight = view.meeting?.spotlight ?? null;
  // A new spotlight shows large for everyone: the speaker view, once; one may go back to the
  // gallery after.
  useEffect(() => {
    if (spotlight !== null && spotlight !== view.me) setLayout("speaker");
  }, [spotlight]);
  const [gridRef, gridSize] = useSize(layout);
  const [page, setPage] = useState(0);
  const [panel, setPanel] = useState<"none" | "chat" | "participants" | "poll">("none");
  /** Hosts and co-hosts may always start a poll; the others have one to see once it exists. */
  const pollAvailable = amModerator(view) || view.poll !== null;
  useEffect(() => {
    if (!pollAvailable && panel === "poll") setPanel("none");
  }, [pollAvailable]);
  const [talking, setTalking] = useState(false);
  const [shareError, setShareError] = useState<ScreenShareError | null>(null);
  /** The desktop app's screen and window picker is open. */
  const [picking, setPicking] = useState(false);
  const startShare = (target?: ShareTarget) => {
    setPicking(false);
    setShareError(null);
    // Only the app's own failures are shown; a cancelled browser picker is not an error.
    media.startScreenShare(target).catch((e: unknown) => setShareError(e instanceof ScreenShareError ? e : null));
  };
  const shareAllowed = mayShare(view);
  /** Share is pressable but refused (and says why) while only hosts may share. */
  const shareRefused = !local.sharingScreen && !shareAllowed;
  const toggleShare = () => {
    if (local.sharingScreen) {
      media.stopScreenShare();
      return;
    }
    if (shareRefused) {
      dispatch({ type: "local/notice", kind: "share_not_allowed" });
      return;
    }
    // The app offers its own list of screens and windows; a browser shows its picker.
    if (media.listShareTargets) setPicking(true);
    else startShare();
  };
  // The host turned sharing off for participants, or took my co-host role, while I shared (or
  // picked what to share): stop as the Stop sharing button does, and say why.
  useEffect(() => {
    if (shareAllowed) return;
    setPicking(false);
    if (local.sharingScreen) {
      media.stopScreenShare();
      dispatch({ type: "local/notice", kind: "share_stopped" });
    }
  }, [shareAllowed, local.sharingScreen]);
  const self = meOf(view);

  // ---- media controls ----
  const unmuteAllowed = mayUnmute(view);
  /** Unmute (button, M, space) is refused while the host does not let me unmute myself: the
   * server would keep me muted, so the microphone stays off and a notice says why. */
  const unmuteRefused = local.micMuted && !unmuteAllowed;
  const refuseUnmute = () => dispatch({ type: "local/notice", kind: "unmute_not_allowed" });
  const toggleMic = () => (unmuteRefused ? refuseUnmute() : media.setMicMuted(!local.micMuted));
  const toggleCamera = () => media.setCameraOn(!local.cameraOn);
  const shortcuts = useMemo(
    () => ({
      toggleMic,
      toggleCamera,
      micMuted: local.micMuted,
      pushToTalk: (down: boolean) => {
        if (down && !unmuteAllowed) {
          refuseUnmute();
          return;
        }
        setTalking(down);
        media.setMicMuted(!down);
      },
    }),
    [media, local.micMuted, local.cameraOn, unmuteAllowed],
  );
  useShortcuts(shortcuts, local.hasMic || local.hasCamera);
  const screen = useRef<HTMLDivElement>(null);
  useMenusClose(screen);

  // ---- chat and poll panel open state goes to the store (unread count, notices) ----
  useEffect(() => {
    dispatch({ type: "local/chat_open", open: panel === "chat" });
    dispatch({ type: "local/poll_open", open: panel === "poll" });
  }, [panel]);

  // ---- transient reactions and notices ----
  useEffect(() => {
    const timers = view.reactions.map((r) => setTimeout(() => dispatch({ type: "local/reaction_done", id: r.id }), REACTION_MS));
    return () => timers.forEach(clearTimeout);
  }, [view.reactions]);
  useEffect(() => {
    // Someone waiting is told until handled, a poll until answered or ended; the rest fade.
    const timers = view.notices
      .filter((n) => n.kind !== "someone_waiting" && n.kind !== "poll_started")
      .map((n) => setTimeout(() => dispatch({ type: "local/dismiss_notice", id: n.id }), NOTICE_MS));
    return () => timers.forEach(clearTimeout);
  }, [view.notices]);

  // ---- tiles ----
  const tiles: TileSpec[] = [];
  for (const p of view.participants) {
    const isSelf = p.id === view.me;
    tiles.push({
      key: `${p.id}/camera`,
      participant: p,
      source: isSelf ? { kind: "local-camera" } : { kind: "remote", participant: p.id, track: "camera" },
      isSelf,
      videoOn: isSelf ? local.cameraOn : p.video_on,
    });
  }
  const screens: TileSpec[] = view.remoteTracks
    .filter((rt) => rt.kind === "screen")
    .flatMap((rt) => {
      const p = view.participants.find((x) => x.id === rt.participant);
      return p ? [{ key: `${p.id}/screen`, participant: p, source: { kind: "remote", participant: p.id, track: "screen" } as VideoSource, isSelf: false, videoOn: true }] : [];
    });
  const all = [...screens, ...tiles];
  const pages = Math.max(1, Math.ceil(all.length / PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const reactionOf = (id: number): Reaction | undefined => [...view.reactions].reverse().find((r) => r.participant === id)?.reaction;

  let main: TileSpec | undefined;
  let strip: TileSpec[] = [];
  let shown: TileSpec[];
  if (layout === "speaker") {
    // My own pin first, then what the whole meeting looks at: a shared screen, then whoever a
    // host spotlighted (not myself: I know what I look like), then whoever speaks.
    main =
      all.find((x) => x.key === pinned) ??
      screens[0] ??
      tiles.find((x) => x.participant.id === spotlight && !x.isSelf) ??
      tiles.find((x) => x.participant.id === view.activeSpeaker && !x.isSelf) ??
      tiles.find((x) => !x.isSelf) ??
      tiles[0];
    strip = tiles.filter((x) => x !== main).slice(0, 8);
    shown = main ? [main, ...strip] : strip;
  } else {
    shown = all.slice(current * PAGE_SIZE, (current + 1) * PAGE_SIZE);
  }
  const cols = Math.max(1, Math.ceil(Math.sqrt(shown.length)));
  const fit = gridSize ? fitTiles(shown.length, gridSize.width, gridSize.height) : null;
  const gridStyle: Record<string, string> = fit
    ? { "--cols": String(fit.cols), "--tile-w": `${fit.w}px`, "--tile-h": `${fit.h}px` }
    : { "--cols": String(cols) };
  const renderTile = (s: TileSpec, large = false) => (
    <Tile
      key={s.key}
      participant={s.participant}
      source={s.source}
      isSelf={s.isSelf}
      speaking={view.activeSpeaker === s.participant.id && s.source.kind !== "local-screen"}
      videoOn={s.videoOn}
      media={media}
      actions={actions}
      reaction={reactionOf(s.participant.id)}
      spotlighted={s.participant.id === spotlight}
      large={large}
      pinned={s.key === pinned}
      onPin={
        s.isSelf
          ? undefined
          : () => {
              // Pinning shows the tile large (speaker view); unpinning goes back to who speaks.
              if (s.key === pinned) {
                setPinned(null);
              } else {
                setPinned(s.key);
                setLayout("speaker");
              }
            }
      }
    />
  );

  const handUp = self?.hand_raised ?? false;
  const host = amHost(view);

  return (
    <div class="meeting" ref={screen}>
      <header class="bar">
        <div class="title">
          <h1>{view.meeting?.topic || t("appName")}</h1>
          {view.meeting && (
            <p class="meeting-id">
              {t("meetingIdLabel", { id: formatMeetingId(view.meeting.id) })}
              {joinUrl && (
                <>
                  {" · "}
                  <span class="join-link" aria-label={t("meetingLink")}>
                    {joinUrl}
                  </span>{" "}
                  <CopyLink url={joinUrl} />
                </>
              )}
            </p>
          )}
        </div>
        {view.meeting?.locked && <span class="badge">{t("locked")}</span>}
        <p class="status" role="status" aria-live="polite">
          {reconnecting
            ? t("reconnecting")
            : shareError
              ? shareError.reason === "no_display"
                ? t("screenShareNoDisplay")
                : t("screenShareFailed", { reason: shareError.detail })
              : local.deviceError
              ? deviceErrorText(local.deviceError, t)
              : local.speakerError
              ? t("speakerMissing")
              : local.status === "connecting"
                ? t("mediaConnecting")
                : local.status === "failed"
                  ? t("mediaFailed")
                  : talking
                    ? t("pushToTalk")
                    : ""}
        </p>
        <div class="row" role="group" aria-label={layout === "gallery" ? t("galleryView") : t("speakerView")}>
          <button type="button" aria-pressed={layout === "gallery"} onClick={() => setLayout("gallery")}>
            {t("galleryView")}
          </button>
          <button type="button" aria-pressed={layout === "speaker"} onClick={() => setLayout("speaker")}>
            {t("speakerView")}
          </button>
        </div>
      </header>

      <div class="body">
        <section class={`stage ${layout}`} aria-label={t("videoArea")}>
          {layout === "gallery" ? (
            <div class="grid" ref={gridRef} style={gridStyle}>
              {shown.map((s) => renderTile(s))}
            </div>
          ) : (
            <>
              <div class="main-tile">{main && renderTile(main, true)}</div>
              <div class="strip">{strip.map((s) => renderTile(s))}</div>
            </>
          )}
          {layout === "gallery" && pages > 1 && (
            <nav class="pager" aria-label={t("pageOf", { page: current + 1, pages })}>
              <button type="button" disabled={current === 0} onClick={() => setPage(current - 1)}>
                {t("previousPage")}
              </button>
              <span>{t("pageOf", { page: current + 1, pages })}</span>
              <button type="button" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>
                {t("nextPage")}
              </button>
            </nav>
          )}
        </section>

        {panel === "chat" && <ChatPanel view={view} actions={actions} />}
        {panel === "participants" && <ParticipantsPanel view={view} actions={actions} />}
        {panel === "poll" && <PollPanel view={view} actions={actions} dispatch={dispatch} />}
      </div>

      {picking && media.listShareTargets && (
        <ShareDialog list={() => media.listShareTargets!()} onChoose={startShare} onCancel={() => setPicking(false)} />
      )}

      <ul class="notices" aria-live="assertive">
        {view.notices.map((n) => (
          <li key={n.id}>
            {noticeText(n, t)}
            {n.kind === "hand_raised" && view.participants.some((p) => p.id === n.participant && p.hand_raised) && (
              <button type="button" aria-label={t("lowerHandOf", { name: n.name })} onClick={() => actions.lowerHand(n.participant)}>
                {t("lowerHand")}
              </button>
            )}
            {(n.kind === "unmute_not_allowed" || (n.kind === "muted_on_entry" && !n.mayUnmute)) && !unmuteAllowed && !handUp && (
              <button type="button" onClick={() => actions.raiseHand()}>
                {t("raiseHand")}
              </button>
            )}
            {n.kind === "chat_message" && (
              <button
                type="button"
                onClick={() => setPanel("chat")}
              >
                {t("openChat")}
              </button>
            )}
            {n.kind === "poll_started" && (
              <button type="button" onClick={() => setPanel("poll")}>
                {t("pollAnswerNow")}
              </button>
            )}
            {n.kind === "poll_shared" && (
              <button type="button" onClick={() => setPanel("poll")}>
                {t("pollShow")}
              </button>
            )}
            {n.kind === "someone_waiting" && (
              <>
                {n.who.length === 1 ? (
                  <button type="button" aria-label={t("admitName", { name: n.who[0]!.name })} onClick={() => actions.admit(n.who[0]!.id)}>
                    {t("admit")}
                  </button>
                ) : (
                  <button type="button" onClick={() => n.who.forEach((w) => actions.admit(w.id))}>
                    {t("admitThese", { count: n.who.length })}
                  </button>
                )}
                <button type="button" onClick={() => setPanel("participants")}>
                  {t("showWaitingRoom")}
                </button>
              </>
            )}
            <button type="button" aria-label={t("close")} onClick={() => dispatch({ type: "local/dismiss_notice", id: n.id })}>
              ×
            </button>
          </li>
        ))}
      </ul>

      <footer class="controls" role="toolbar" aria-label={t("meetingControls")} aria-describedby="shortcuts-hint">
        <button
          type="button"
          aria-pressed={local.micMuted}
          aria-keyshortcuts="M"
          disabled={!local.hasMic}
          aria-disabled={unmuteRefused || undefined}
          title={unmuteRefused ? (handUp ? t("unmuteNotAllowed") : `${t("unmuteNotAllowed")} ${t("raiseHandToSpeak")}`) : undefined}
          onClick={toggleMic}
        >
          {local.micMuted ? t("unmute") : t("mute")}
        </button>
        <button type="button" aria-pressed={!local.cameraOn} aria-keyshortcuts="V" disabled={!local.hasCamera} onClick={toggleCamera}>
          {local.cameraOn ? t("stopVideo") : t("startVideo")}
        </button>
        <DevicesMenu media={media} devices={devices} />
        <button
          type="button"
          aria-pressed={local.sharingScreen}
          aria-haspopup={media.listShareTargets && !shareRefused ? "dialog" : undefined}
          aria-disabled={shareRefused || undefined}
          title={shareRefused ? t("shareNotAllowed") : undefined}
          onClick={toggleShare}
        >
          {local.sharingScreen ? t("stopSharing") : t("shareScreen")}
        </button>
        <button type="button" aria-pressed={handUp} onClick={() => (handUp ? actions.lowerHand() : actions.raiseHand())}>
          {handUp ? t("lowerHand") : t("raiseHand")}
        </button>
        <details class="reactions">
          <summary>{t("reactions")}</summary>
          <div role="group" aria-label={t("reactions")}>
            {REACTIONS.map((r) => (
              <button
                key={r}
                type="button"
                aria-label={t(`reaction_${r}`)}
                title={t(`reaction_${r}`)}
                onClick={(e) => {
                  actions.react(r);
                  // One reaction per opening, as in other meeting apps; the menu gets out of the way.
                  const menu = e.currentTarget.closest("details");
                  if (menu) menu.open = false;
                }}
              >
                {REACTION_EMOJI[r]}
              </button>
            ))}
          </div>
          <div role="group" aria-label={t("feedback")} class="feedback-choices">
            {FEEDBACK.map((f) => (
              <button
                key={f}
                type="button"
                aria-pressed={self?.feedback === f}
                onClick={(e) => {
                  // Pressed again, it is taken back.
                  actions.setFeedback(self?.feedback === f ? null : f);
                  const menu = e.currentTarget.closest("details");
                  if (menu) menu.open = false;
                }}
              >
                <span aria-hidden="true">{FEEDBACK_SYMBOL[f]} </span>
                {t(`feedback_${f}`)}
              </button>
            ))}
          </div>
        </details>
        <button
          type="button"
          aria-pressed={panel === "participants"}
          onClick={() => setPanel(panel === "participants" ? "none" : "participants")}
        >
          {t("participantsCount", { count: view.participants.length })}
          {view.waiting.length > 0 && (
            <span class="badge" aria-label={t("waitingCount", { count: view.waiting.length })}>
              {view.waiting.length}
            </span>
          )}
        </button>
        <button
          type="button"
          aria-pressed={panel === "chat"}
          aria-label={view.unread > 0 ? t("chatUnread", { count: view.unread }) : t("chat")}
          onClick={() => setPanel(panel === "chat" ? "none" : "chat")}
        >
          {t("chat")}
          {view.unread > 0 && (
            <span class="badge unread" aria-hidden="true">
              {view.unread}
            </span>
          )}
        </button>
        {pollAvailable && (
          <button type="button" aria-pressed={panel === "poll"} onClick={() => setPanel(panel === "poll" ? "none" : "poll")}>
            {t("poll")}
          </button>
        )}
        {host ? (
          // The host chooses between leaving (the meeting goes on) and ending it for everyone.
          <details class="end-menu">
            <summary class="danger">{t("endMenu")}</summary>
            <div>
              <button type="button" onClick={onLeave}>
                {t("leaveMeeting")}
              </button>
              <button
                type="button"
                class="danger"
                onClick={() => {
                  if (globalThis.confirm?.(t("endForAllConfirm")) ?? true) actions.endForAll();
                }}
              >
                {t("endForAll")}
              </button>
            </div>
          </details>
        ) : (
          <button type="button" class="danger" onClick={onLeave}>
            {t("leaveMeeting")}
          </button>
        )}
        <p id="shortcuts-hint" class="visually-hidden">
          {t("shortcutsHint")}
        </p>
      </footer>
    </div>
  );
}

function noticeText(n: Notice, t: ReturnType<typeof useI18n>["t"]): string {
  switch (n.kind) {
    case "muted_by":
      return t("mutedByHost", { name: n.by });
    case "unmute_requested":
      return t("unmuteRequested", { name: n.by });
    case "role_changed":
      if (n.role === "host") return t("youAreHost");
      if (n.role === "co_host") return n.from === "host" ? t("youAreCoHostNotHost") : t("youAreCoHost");
      return n.from === "host" ? t("youAreNoLongerHost") : t("youAreParticipant");
    case "participant_removed":
      return t("participantRemoved", { name: n.name });
    case "hand_raised":
      return t("handRaisedBy", { name: n.name });
    case "chat_message":
      return t(n.private ? "chatNoticePrivate" : "chatNotice", { name: n.from, text: n.text });
    case "someone_waiting":
      return n.who.length === 1
        ? t("waitingNoticeOne", { name: n.who[0]!.name })
        : t("waitingNoticeMany", { name: n.who[0]!.name, count: n.who.length - 1 });
    case "spotlight":
      return n.you ? t("spotlightOnYou") : t("spotlightOn", { name: n.name });
    case "poll_started":
      return t("pollStarted", { name: n.name });
    case "poll_shared":
      return t("pollSharedNotice");
    case "muted_on_entry":
      return n.mayUnmute ? t("mutedOnEntry") : `${t("mutedOnEntry")} ${t("raiseHandToSpeak")}`;
    case "unmute_not_allowed":
      return t("unmuteNotAllowed");
    case "share_not_allowed":
      return t("shareNotAllowed");
    case "share_stopped":
      return t("shareStopped");
    case "error":
      return t("error_generic", { message: n.message || n.code });
  }
}
