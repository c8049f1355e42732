import { useEffect, useRef, useState } from "preact/hooks";
import { useI18n } from "../i18n";
import { ScreenShareError, type ShareTarget } from "../media/backend";

export interface ShareDialogProps {
  /** The screens and windows to offer (the desktop app's `share_targets`). */
  list(): Promise<ShareTarget[]>;
  onChoose(target: ShareTarget): void;
  onCancel(): void;
}

type Listing = { state: "looking" } | { state: "listed"; targets: ShareTarget[] } | { state: "failed"; error: unknown };

const keyOf = (t: ShareTarget) => `${t.kind}:${t.id}`;

/**
 * Chooses a screen or one window to share, in the desktop app (a browser has its own picker).
 * A modal dialog: focus starts on the first choice, the arrow keys move between the choices
 * (one radio group), Enter shares, Escape cancels, and Tab stays inside.
 */
export function ShareDialog({ list, onChoose, onCancel }: ShareDialogProps) {
  const { t } = useI18n();
  const [listing, setListing] = useState<Listing>({ state: "looking" });
  const [chosen, setChosen] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const opener = useRef<Element | null>(typeof document !== "undefined" ? document.activeElement : null);

  const refresh = () => {
    setListing({ state: "looking" });
    list().then(
      (targets) => {
        setListing({ state: "listed", targets });
        setChosen((c) => (c && targets.some((x) => keyOf(x) === c) ? c : targets[0] ? keyOf(targets[0]) : null));
      },
      (error: unknown) => setListing({ state: "failed", error }),
    );
  };
  useEffect(refresh, []);

  // Focus the chosen option once the list is there; give focus back to the opener at the end.
  useEffect(() => {
    if (listing.state !== "listed") return;
    const first = box.current?.querySelector<HTMLInputElement>("input[type=radio]:checked") ?? box.current?.querySelector<HTMLElement>("button");
    first?.focus();
  }, [listing.state]);
  useEffect(
    () => () => {
      if (opener.current instanceof HTMLElement) opener.current.focus();
    },
    [],
  );

  const targets = listing.state === "listed" ? listing.targets : [];
  const screens = targets.filter((x) => x.kind === "screen");
  const windows = targets.filter((x) => x.kind === "window");
  const target = targets.find((x) => keyOf(x) === chosen);
  const share = () => {
    if (target) onChoose(target);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.preventDefault();
      onCancel();
      return;
    }
    if (e.key === "Tab" && box.current) {
      // Keep focus in the dialog: from the last control to the first and back.
      const focusable = [...box.current.querySelectorAll<HTMLElement>("input:checked, input:not([type=radio]), button:not([disabled])")];
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (!first || !last) return;
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    }
  };

  const option = (x: ShareTarget) => {
    const id = `share-${x.kind}-${x.id}`;
    const label = x.system_dialog
      ? t(x.kind === "screen" ? "shareScreenBySystem" : "shareWindowBySystem")
      : x.kind === "screen" && x.whole
        ? t("shareAllScreens")
        : x.name;
    return (
      <li key={keyOf(x)}>
        <input
          type="radio"
          id={id}
          name="share-target"
          value={keyOf(x)}
          checked={chosen === keyOf(x)}
          onChange={() => setChosen(keyOf(x))}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              onChoose(x);
            }
          }}
        />
        <label for={id}>{label}</label>
      </li>
    );
  };

  return (
    <div class="dialog-backdrop">
      <div
        class="dialog share-dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="share-dialog-title"
        ref={box}
        onKeyDown={onKeyDown}
      >
        <h2 id="share-dialog-title">{t("shareDialogTitle")}</h2>
        {listing.state === "looking" && <p role="status">{t("shareLooking")}</p>}
        {listing.state === "failed" && (
          <p role="alert" class="error">
            {listing.error instanceof ScreenShareError && listing.error.reason === "no_display"
              ? t("screenShareNoDisplay")
              : t("screenShareFailed", { reason: listing.error instanceof Error ? listing.error.message : String(listing.error) })}
          </p>
        )}
        {listing.state === "listed" && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              share();
            }}
          >
            <fieldset>
              <legend>{t("shareScreens")}</legend>
              <ul>{screens.map(option)}</ul>
            </fieldset>
            <fieldset>
              <legend>{t("shareWindows")}</legend>
              {windows.length > 0 ? <ul>{windows.map(option)}</ul> : <p>{t("shareNoWindows")}</p>}
            </fieldset>
            <div class="row">
              <button type="submit" class="primary" disabled={!target}>
                {t("shareChosen")}
              </button>
              <button type="button" onClick={refresh}>
                {t("shareRefresh")}
              </button>
              <button type="button" onClick={onCancel}>
                {t("cancel")}
              </button>
            </div>
          </form>
        )}
        {listing.state !== "listed" && (
          <div class="row">
            <button type="button" onClick={onCancel}>
              {t("cancel")}
            </button>
          </div>
        )}
      </div>
    </div>
  );
}
