import { useState } from "preact/hooks";
import { useI18n } from "../i18n";
import type { Account } from "../settings/account";
import type { Preferences } from "../settings/preferences";
import type { TokenStore } from "../settings/tokens";
import { LanguagePicker } from "./LanguagePicker";

export interface SettingsProps {
  serverHost: string;
  account: Account;
  /** Where a token is kept, to say so. */
  kept: TokenStore["kept"];
  preferences: Preferences;
  onPreferences(prefs: Preferences): void;
  onBack(): void;
}

/** The user's settings: signing in to the server, the name and devices to join with, the language. */
export function Settings({ serverHost, account, kept, preferences, onPreferences, onBack }: SettingsProps) {
  const { t } = useI18n();
  const [token, setToken] = useState("");
  const state = account.state;

  const signIn = (e: Event) => {
    e.preventDefault();
    if (!token.trim()) return;
    void account.signIn(token).then(() => setToken(""));
  };

  let accountStatus: string;
  switch (state.status) {
    case "signed_in":
      accountStatus = t("signedInAs", { name: state.me.display_name, email: state.me.email, organisation: state.me.organisation });
      break;
    case "checking":
      accountStatus = t("checkingToken");
      break;
    case "refused":
      accountStatus = state.unreachable ? t("noServer") : t("tokenRefused", { reason: state.reason });
      break;
    case "signed_out":
      accountStatus = "";
  }

  return (
    <main class="card settings" aria-labelledby="settings-title">
      <h1 id="settings-title">{t("settings")}</h1>

      <section aria-labelledby="account-heading">
        <h2 id="account-heading">{t("signInHeading")}</h2>
        {!serverHost.trim() ? (
          <p class="hint">{t("chooseServerFirst")}</p>
        ) : state.status === "signed_in" ? (
          <>
            <p role="status">{accountStatus}</p>
            <p class={state.keptError ? "error" : "hint"}>
              {state.keptError ? t("tokenNotKept", { reason: state.keptError }) : kept === "keyring" ? t("tokenKeptKeyring") : t("tokenKeptTab")}
            </p>
            <button type="button" onClick={() => void account.signOut()}>
              {t("signOut")}
            </button>
          </>
        ) : (
          <form onSubmit={signIn}>
            <p class="hint">{t("signInExplained", { server: serverHost.trim() })}</p>
            <label for="api-token">{t("apiToken")}</label>
            <input
              id="api-token"
              type="password"
              value={token}
              autocomplete="off"
              aria-describedby="api-token-hint account-status"
              onInput={(e) => setToken(e.currentTarget.value)}
            />
            <p id="api-token-hint" class="hint">
              {t("apiTokenHint")}
            </p>
            <p id="account-status" role="status" class={state.status === "refused" ? "error" : undefined}>
              {accountStatus}
            </p>
            <button type="submit" class="primary" disabled={state.status === "checking"}>
              {t("signIn")}
            </button>
          </form>
        )}
      </section>

      <section aria-labelledby="joining-heading">
        <h2 id="joining-heading">{t("joiningHeading")}</h2>
        <label for="default-name">{t("yourName")}</label>
        <input
          id="default-name"
          value={preferences.name}
          maxLength={64}
          autocomplete="name"
          onInput={(e) => onPreferences({ ...preferences, name: e.currentTarget.value })}
        />
        <label class="check">
          <input
            type="checkbox"
            checked={preferences.joinMuted}
            onChange={(e) => onPreferences({ ...preferences, joinMuted: e.currentTarget.checked })}
          />
          {t("joinMutedSetting")}
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={preferences.joinCameraOff}
            onChange={(e) => onPreferences({ ...preferences, joinCameraOff: e.currentTarget.checked })}
          />
          {t("joinCameraOffSetting")}
        </label>
      </section>

      <LanguagePicker />
      <button type="button" onClick={onBack}>
        {t("back")}
      </button>
    </main>
  );
}
