// The element each view test renders into: a fresh one per test, unmounted and removed after
// it, so one test's tree (and its timers and listeners) never leaks into the next.

import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach } from "vitest";

/** The current test's element (a live binding: it changes before each test). */
export let root: HTMLElement;

/** Gives each test of the calling file a fresh {@link root}. */
export function useDomRoot(): void {
  beforeEach(() => {
    root = document.createElement("div");
    document.body.append(root);
  });
  afterEach(() => {
    render(null, root);
    root.remove();
  });
}

/** Picks `value` in the <select> matching `selector` in {@link root}, as a user does. */
export function choose(selector: string, value: string): Promise<void> {
  return act(async () => {
    const select = root.querySelector(selector) as HTMLSelectElement;
    select.value = value;
    select.dispatchEvent(new Event("change"));
  });
}

/** Lets the page work (promises, timers) until `check` holds; fails with `what` after 2 s. */
export async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, 20)));
  }
  throw new Error(`never happened: ${what}`);
}
