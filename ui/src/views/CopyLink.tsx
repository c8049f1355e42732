import { useEffect, useState } from "preact/hooks";
import { useI18n } from "../i18n";

/** How long "Link copied." shows after a copy. */
const SAID_FOR_MS = 3000;

/** Copies a join link to the clipboard, and says so for a moment (to screen readers too).
 * `label` names the link where a page holds several (one per meeting). */
export function CopyLink({ url, label }: { url: string; label?: string }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), SAID_FOR_MS);
    return () => clearTimeout(timer);
  }, [copied]);
  const copy = () =>
    void globalThis.navigator?.clipboard
      ?.writeText(url)
      .then(() => setCopied(true))
      .catch(() => {});
  return (
    <>
      <button type="button" class="small" aria-label={label} onClick={copy}>
        {t("copyLink")}
      </button>
      <span class="copied" role="status">
        {copied ? t("linkCopied") : ""}
      </span>
    </>
  );
}
