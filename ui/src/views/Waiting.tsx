import { useI18n } from "../i18n";
import type { MeetingState } from "../protocol/messages";

export function Waiting({ meeting, onLeave }: { meeting: MeetingState | null; onLeave(): void }) {
  const { t } = useI18n();
  return (
    <main class="card waiting" aria-labelledby="waiting-title">
      <h1 id="waiting-title">{t("waitingRoom")}</h1>
      <p role="status" class="waiting-text">
        {t("waitingForHost")}
      </p>
      <p class="hint">{t("waitingDetail", { topic: meeting?.topic || t("meeting") })}</p>
      <button type="button" onClick={onLeave}>
        {t("leaveMeeting")}
      </button>
    </main>
  );
}
