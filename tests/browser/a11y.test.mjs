// Accessibility of the web UI's screens, as axe-core (the checker behind Lighthouse and the
// browsers' accessibility audits) finds them in the real page in Chromium: every serious or
// critical violation of WCAG 2.1 A and AA fails the test, with the elements it names. The
// screens: home (signed out and in, scheduling open), settings, pre-join, the waiting room, the
// meeting with the participants and chat panels open, the speaker view, the devices and
// reactions menus, and the screen after leaving, in bokmål. And a keyboard user's way through a
// meeting: join, mute with M, send a reaction from its menu, close a menu with Escape, leave.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { CLI_BIN, createMeeting, openBrowser, screenshot, server, setUp, start, stop, tearDown, tileOf, waitFor } from "./harness.mjs";

before(setUp);
after(tearDown);

const axeSource = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** The serious and critical WCAG 2.1 A/AA violations on the page now, one line each. */
async function violations(page) {
  // Evaluated over the DevTools protocol, which the page's CSP (script-src 'self') does not cover.
  await page.evaluate(`${axeSource}\n;undefined`);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }, resultTypes: ["violations"] }),
  );
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(" ")} – ${n.failureSummary.replace(/\s+/g, " ")}`));
}

async function check(page, screen) {
  await screenshot(page, `a11y-${screen}`);
  const found = await violations(page);
  assert.deepEqual(found, [], `${screen}: ${found.length} accessibility violations:\n${found.join("\n")}`);
}

test("every screen of a meeting passes axe's WCAG 2.1 AA checks", async () => {
  const meeting = await createMeeting({ topic: "Tilgjengelighet", waiting_room: true, start_time: new Date(Date.now() + 3600_000).toISOString() });
  const { page } = await openBrowser("a11y-host");
  await page.goto(`${server.base}/?lang=nb&name=Kari`);
  await page.getByText("Logg inn under Innstillinger").waitFor({ timeout: 10_000 });
  await check(page, "home-signed-out");

  await page.getByRole("button", { name: "Innstillinger" }).first().click();
  await page.getByLabel("API-nøkkel").fill(server.token);
  await check(page, "settings");
  await page.getByRole("button", { name: "Logg inn" }).click();
  await page.getByText(/^Logget inn som/).waitFor({ timeout: 10_000 });
  await page.getByRole("button", { name: "Tilbake" }).click();
  await page.getByRole("listitem").filter({ hasText: meeting.topic }).waitFor({ timeout: 10_000 });
  await page.getByText("Planlegg et møte").click();
  await check(page, "home-signed-in");
  // A past meeting's attendance (an instant meeting nobody attended yet).
  const earlier = await createMeeting({ topic: "Tidligere seminar" });
  await page.reload();
  await page.getByRole("button", { name: `Oppmøte på «${earlier.topic}»` }).click({ timeout: 10_000 });
  await page.getByText("Ingen deltok.").waitFor({ timeout: 10_000 });
  await check(page, "home-attendance");

  await page.getByRole("button", { name: `Start «${meeting.topic}»` }).click();
  await page.getByRole("button", { name: "Bli med" }).waitFor();
  await page.locator(".preview video").evaluate((v) => new Promise((r) => (v.videoWidth > 0 ? r() : v.addEventListener("loadeddata", r, { once: true }))));
  await check(page, "prejoin");

  await page.getByRole("button", { name: "Bli med" }).click();
  await page.locator("figure.tile.self").waitFor({ timeout: 15_000 });

  // A guest in the waiting room, in a second browser.
  const { page: guest } = await openBrowser("a11y-guest");
  await guest.goto(`${meeting.join_url}?lang=nb&name=Ola`);
  await guest.getByRole("button", { name: "Bli med" }).click();
  await guest.getByText(/venter på at verten slipper deg inn/i).waitFor({ timeout: 10_000 });
  await check(guest, "waiting-room");

  const participants = page.getByRole("button", { name: /^Deltakere \(1\).*1 venter/ });
  await participants.waitFor({ timeout: 15_000 });
  await participants.click();
  await page.locator(".panel.participants").getByRole("button", { name: "Slipp inn Ola" }).click();
  await tileOf(page, "Ola").waitFor({ timeout: 15_000 });
  // And a samla-cli guest with a moving picture, for a video tile.
  const cli = start("a11y-cli", CLI_BIN, ["join", meeting.join_url, "--name", "Per", "--for", "30s", "--video", "synthetic:320x180@15"]);
  await page.locator(".panel.participants").getByRole("button", { name: "Slipp inn Per" }).click({ timeout: 15_000 });
  await tileOf(page, "Per").waitFor({ timeout: 15_000 });
  await page.locator('summary[aria-label="Mer for Ola"]').click();
  await check(page, "meeting-participants");

  await page.getByRole("button", { name: /^Chat/ }).click();
  await page.getByRole("textbox").last().fill("Hei alle");
  await page.keyboard.press("Enter");
  await check(page, "meeting-chat");
  await guest.getByRole("button", { name: /^Chat, 1 ulest/ }).click({ timeout: 10_000 });
  await guest.getByRole("region", { name: "Chat" }).getByText("Hei alle").waitFor({ timeout: 10_000 });
  await check(guest, "meeting-guest");

  // The guest's other views and menus: speaker view, the devices and reactions menus.
  await guest.getByRole("button", { name: "Talervisning" }).click();
  await check(guest, "meeting-speaker-view");
  await guest.locator("details.devices-menu summary").click();
  await guest.locator("#meeting-mic").waitFor();
  await check(guest, "meeting-devices-menu");
  await guest.locator("details.devices-menu summary").click();
  await guest.locator("details.reactions summary").click();
  await check(guest, "meeting-reactions");
  await guest.locator("details.reactions summary").click();

  // A poll: the host's form, the guest's answer, the host's counts.
  await page.getByRole("button", { name: "Avstemning" }).click();
  const poll = page.getByRole("region", { name: "Avstemning" });
  await check(page, "poll-form");
  await poll.getByLabel("Spørsmål").fill("Forstår dere?");
  await poll.getByRole("textbox", { name: "Svar 1", exact: true }).fill("Ja");
  await poll.getByRole("textbox", { name: "Svar 2", exact: true }).fill("Nei");
  await poll.getByRole("button", { name: "Start avstemningen" }).click();
  await guest.locator(".notices li", { hasText: "startet en avstemning" }).getByRole("button", { name: "Svar" }).click({ timeout: 10_000 });
  await guest.getByRole("group", { name: "Forstår dere?" }).getByLabel("Ja").check();
  await check(guest, "poll-answer");
  await guest.getByRole("button", { name: "Send svar" }).click();
  await poll.getByText("1 har svart").waitFor({ timeout: 10_000 });
  await check(page, "poll-counts");

  // Leaving: the screen that says so.
  await guest.getByRole("button", { name: "Forlat møtet" }).click();
  await guest.getByText(/Du har forlatt møtet/).waitFor({ timeout: 10_000 });
  await check(guest, "left");
  await stop(cli);
});

/** Presses Tab until the focused element is `what` (a description of it is returned by `name`);
 * fails after 40 presses, naming where the focus went. */
async function tabTo(page, what, isIt) {
  const seen = [];
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      return el ? { tag: el.tagName.toLowerCase(), text: (el.getAttribute("aria-label") || el.textContent || "").trim().slice(0, 40), id: el.id } : null;
    });
    seen.push(focused && `${focused.tag}:${focused.text || focused.id}`);
    if (focused && isIt(focused)) return;
  }
  assert.fail(`Tab never reached ${what}; the focus went: ${seen.join(" → ")}`);
}

test("a keyboard user joins, mutes, reacts and leaves without a mouse", async () => {
  const meeting = await createMeeting({ topic: "Tastatur" });
  const { page } = await openBrowser("keyboard");
  await page.goto(`${meeting.join_url}?lang=nb`);
  // The name field has the focus on arrival (no name given yet).
  await page.getByRole("button", { name: "Bli med" }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "name");
  await page.keyboard.type("Tastaturbruker");
  await tabTo(page, "Join", (f) => f.id === "join");
  await page.keyboard.press("Enter");
  await page.locator("figure.tile.self").waitFor({ timeout: 15_000 });

  // M mutes, and the mute button says so. (The microphone is on once the devices that the
  // pre-join screen was still opening are open.)
  const muteButton = page.locator(".controls > button").first();
  await waitFor("the microphone on", async () => (await muteButton.getAttribute("aria-pressed")) === "false", { timeoutMs: 10_000 });
  await page.keyboard.press("m");
  assert.equal(await muteButton.getAttribute("aria-pressed"), "true");
  assert.equal((await muteButton.textContent()).trim(), "Slå på lyden");

  // The reactions menu opens from the keyboard, a reaction is sent, and the menu closes.
  await tabTo(page, "Reactions", (f) => f.tag === "summary" && f.text === "Reaksjoner");
  await page.keyboard.press("Enter");
  assert.ok(await page.locator("details.reactions").evaluate((d) => d.open));
  await tabTo(page, "a reaction", (f) => f.text === "Klapp");
  await page.keyboard.press("Enter");
  assert.equal(await page.locator("details.reactions").evaluate((d) => d.open), false, "the reactions menu stayed open");
  // Escape closes a menu opened from the keyboard, and the focus is back on its button.
  await page.locator("details.reactions summary").focus();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Escape");
  assert.equal(await page.locator("details.reactions").evaluate((d) => d.open), false);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Reaksjoner");

  // First in, with nobody else to run it, the user is its host: End offers leaving.
  await tabTo(page, "End", (f) => f.tag === "summary" && f.text === "Avslutt");
  await page.keyboard.press("Enter");
  await tabTo(page, "Leave", (f) => f.text === "Forlat møtet");
  await page.keyboard.press("Enter");
  await page.getByText(/Du har forlatt møtet/).waitFor({ timeout: 10_000 });
  await screenshot(page, "a11y-keyboard-left");
});
