// What the user set once and expects every meeting to start with: the name others see, and
// whether to join with the microphone or the camera off. Kept on this device (localStorage),
// beside the language (i18n) and the server (app.tsx).

export interface Preferences {
  /** The name filled in before joining; empty until the user gives one. */
  name: string;
  joinMuted: boolean;
  joinCameraOff: boolean;
}

export const PREFERENCES_KEY = "samla.preferences";

export const DEFAULT_PREFERENCES: Preferences = { name: "", joinMuted: false, joinCameraOff: false };

type Storage = Pick<globalThis.Storage, "getItem" | "setItem">;

function localStore(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined; // private mode, or storage turned off
  }
}

/** The stored preferences; what is missing or unreadable falls back to the defaults. */
export function readPreferences(storage: Storage | undefined = localStore()): Preferences {
  let stored: Partial<Record<keyof Preferences, unknown>> = {};
  try {
    stored = JSON.parse(storage?.getItem(PREFERENCES_KEY) ?? "{}") ?? {};
  } catch {
    /* a damaged entry: start again from the defaults */
  }
  return {
    name: typeof stored.name === "string" ? stored.name.slice(0, 64) : DEFAULT_PREFERENCES.name,
    joinMuted: typeof stored.joinMuted === "boolean" ? stored.joinMuted : DEFAULT_PREFERENCES.joinMuted,
    joinCameraOff: typeof stored.joinCameraOff === "boolean" ? stored.joinCameraOff : DEFAULT_PREFERENCES.joinCameraOff,
  };
}

export function storePreferences(prefs: Preferences, storage: Storage | undefined = localStore()): void {
  try {
    storage?.setItem(PREFERENCES_KEY, JSON.stringify(prefs));
  } catch {
    /* full or refused: the preferences hold until the page closes */
  }
}
