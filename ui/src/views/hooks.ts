import { useEffect, useReducer, useState } from "preact/hooks";
import type { LocalMediaState, MediaBackend } from "../media/backend";

/** Something fetched for a view: on its way, there, or refused with a reason to show. */
export type Loaded<T> = { status: "loading" } | { status: "loaded"; value: T } | { status: "failed"; reason: string };

/** Runs `load` and again whenever it is a new function (the caller's way to reload); an answer
 * to an older load, arriving late, is dropped. */
export function useLoaded<T>(load: () => Promise<T>): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ status: "loading" });
  useEffect(() => {
    let current = true;
    setLoaded({ status: "loading" });
    load().then(
      (value) => current && setLoaded({ status: "loaded", value }),
      (err: unknown) => current && setLoaded({ status: "failed", reason: err instanceof Error ? err.message : String(err) }),
    );
    return () => {
      current = false;
    };
  }, [load]);
  return loaded;
}

/** Re-renders when the media backend changes; returns its local state. */
export function useMedia(media: MediaBackend): LocalMediaState {
  const [, bump] = useReducer((n: number, _: void) => n + 1, 0);
  useEffect(() => media.subscribe(() => bump()), [media]);
  return media.local;
}

export interface ShortcutHandlers {
  toggleMic(): void;
  toggleCamera(): void;
  /** Space pressed while muted: talk until released. */
  pushToTalk(down: boolean): void;
  micMuted: boolean;
}

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  const tag = el.tagName.toLowerCase();
  return tag === "input" || tag === "textarea" || tag === "select" || el.isContentEditable === true;
}

/** M mutes/unmutes, V turns the camera on/off, holding space talks while muted. Keys typed
 * into form fields, and keys with Ctrl/Alt/Meta, are left alone. Space on a focused button
 * still presses the button. */
export function useShortcuts(h: ShortcutHandlers, enabled: boolean, target: EventTarget = globalThis as unknown as EventTarget): void {
  useEffect(() => {
    if (!enabled) return;
    let talking = false;
    const down = (e: Event) => {
      const ev = e as KeyboardEvent;
      if (ev.ctrlKey || ev.altKey || ev.metaKey || typing(ev.target)) return;
      const key = ev.key.toLowerCase();
      if (key === "m" && !ev.repeat) {
        ev.preventDefault();
        h.toggleMic();
      } else if (key === "v" && !ev.repeat) {
        ev.preventDefault();
        h.toggleCamera();
      } else if (key === " " && !isButton(ev.target)) {
        ev.preventDefault();
        if (!ev.repeat && h.micMuted && !talking) {
          talking = true;
          h.pushToTalk(true);
        }
      }
    };
    const up = (e: Event) => {
      const ev = e as KeyboardEvent;
      if (ev.key === " " && talking) {
        talking = false;
        h.pushToTalk(false);
      }
    };
    const blur = () => {
      if (talking) {
        talking = false;
        h.pushToTalk(false);
      }
    };
    target.addEventListener("keydown", down);
    target.addEventListener("keyup", up);
    target.addEventListener("blur", blur);
    return () => {
      target.removeEventListener("keydown", down);
      target.removeEventListener("keyup", up);
      target.removeEventListener("blur", blur);
    };
  }, [h, enabled, target]);
}

function isButton(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  const tag = el?.tagName?.toLowerCase();
  return tag === "button" || tag === "summary" || el?.getAttribute?.("role") === "button";
}

/** The pop-up menus inside `root` (`<details>` whose content floats: devices, reactions, End,
 * a participant's More) close as menus do: on Escape, which gives the focus back to the menu's
 * button, and on a press anywhere outside them. A native `<details>` would stay open. */
export function useMenusClose(root: { current: HTMLElement | null }): void {
  useEffect(() => {
    const el = root.current;
    if (!el) return;
    const open = () => [...el.querySelectorAll<HTMLDetailsElement>("details[open]")];
    const key = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      const menus = open();
      if (menus.length === 0) return;
      e.preventDefault();
      for (const menu of menus) menu.open = false;
      menus[0]!.querySelector("summary")?.focus();
    };
    const press = (e: Event) => {
      for (const menu of open()) if (!menu.contains(e.target as Node)) menu.open = false;
    };
    document.addEventListener("keydown", key);
    document.addEventListener("pointerdown", press);
    return () => {
      document.removeEventListener("keydown", key);
      document.removeEventListener("pointerdown", press);
    };
  }, [root]);
}
