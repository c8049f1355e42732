import { useI18n } from "../i18n";
import type { CloseReason } from "../protocol/messages";

export function Ended({ reason, onRejoin, onHome }: { reason: CloseReason | null; onRejoin?: () => void; onHome?: () => void }) {
  const { t } = useI18n();
  const text = reason ? t(`closed_${reason}`) : t("connectionLost");
  const mayRejoin = reason !== "removed" && reason !== "meeting_ended" && reason !== "denied";
  return (
    <main class="card ended">
      <h1>{t("appName")}</h1>
      <p role="status">{text}</p>
      <div class="row">
        {onRejoin && mayRejoin && (
          <button type="button" class="primary" onClick={onRejoin}>
            {t("rejoin")}
          </button>
        )}
        {onHome && (
          <button type="button" onClick={onHome}>
            {t("toStart")}
          </button>
        )}
      </div>
    </main>
  );
}
