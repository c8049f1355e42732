import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { useI18n, type Lang } from "../i18n";

/** Set by the app: the stored override (null = follow the system) and how to change it. */
export const LanguageSetting = createContext<{ override: Lang | null; set(lang: Lang | null): void }>({
  override: null,
  set: () => {},
});

export function LanguagePicker() {
  const { t } = useI18n();
  const setting = useContext(LanguageSetting);
  return (
    <p class="language">
      <label for="language">{t("language")}</label>{" "}
      <select
        id="language"
        value={setting.override ?? ""}
        onChange={(e) => setting.set((e.currentTarget.value || null) as Lang | null)}
      >
        <option value="">{t("languageSystem")}</option>
        <option value="nb" lang="nb">
          {t("langNb")}
        </option>
        <option value="nn" lang="nn">
          {t("langNn")}
        </option>
        <option value="en" lang="en">
          {t("langEn")}
        </option>
      </select>
    </p>
  );
}
