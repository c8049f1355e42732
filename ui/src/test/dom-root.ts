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
