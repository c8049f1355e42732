import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { LANGUAGES, messages, type Lang, type MessageKey } from "./catalogue";

export { LANGUAGES, messages, type Lang, type MessageKey };

export type Params = Readonly<Record<string, string | number>>;
export type Translate = (key: MessageKey, params?: Params) => string;

/** The stored language override ("nb" | "nn" | "en"); absent means "follow the system". */
export const LANG_STORAGE_KEY = "samla.lang";

export function isLang(value: unknown): value is Lang {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);
}

/** The system's language: the first of `languages` we know (nb/no → nb, nn → nn, en → en),
 * else English. */
export function systemLanguage(languages: readonly string[] | undefined): Lang {
  for (const tag of languages ?? []) {
    const base = tag.toLowerCase().split(/[-_]/)[0];
    if (base === "nb" || base === "no") return "nb";
    if (base === "nn") return "nn";
    if (base === "en") return "en";
  }
  return "en";
}

/** `?lang=` first, then the stored setting, then the system. */
export function pickLanguage(opts: {
  query?: string | null;
  stored?: string | null;
  languages?: readonly string[];
}): Lang {
  if (isLang(opts.query)) return opts.query;
  if (isLang(opts.stored)) return opts.stored;
  return systemLanguage(opts.languages);
}

export function readStoredLanguage(storage: Pick<Storage, "getItem"> | undefined = safeStorage()): Lang | null {
  try {
    const v = storage?.getItem(LANG_STORAGE_KEY);
    return isLang(v) ? v : null;
  } catch {
    return null;
  }
}

/** Stores the override; null goes back to following the system. */
export function storeLanguage(lang: Lang | null, storage: Pick<Storage, "setItem" | "removeItem"> | undefined = safeStorage()): void {
  try {
    if (lang) storage?.setItem(LANG_STORAGE_KEY, lang);
    else storage?.removeItem(LANG_STORAGE_KEY);
  } catch {
    /* private mode */
  }
}

function safeStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

export function translator(lang: Lang): Translate {
  return (key, params) => {
    const text: string = messages[key][lang];
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (all, name: string) => (name in params ? String(params[name]) : all));
  };
}

/** BCP 47 tag for `lang` attributes and Intl. */
export function localeOf(lang: Lang): string {
  return lang === "en" ? "en-GB" : `${lang}-NO`;
}

export interface I18n {
  lang: Lang;
  t: Translate;
}

export const I18nContext = createContext<I18n>({ lang: "en", t: translator("en") });

export function useI18n(): I18n {
  return useContext(I18nContext);
}
