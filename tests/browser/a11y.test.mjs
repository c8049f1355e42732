// Accessibility of the web UI's screens, as axe-core (the checker behind Lighthouse and the
// browsers' accessibility audits) finds them in the real page in Chromium: every serious or
// critical violation of WCAG 2.1 A and AA fails the test, with the elements it names. The
// screens: home (signed out and in, scheduling open), settings, pre-join, the waiting room, the
// meeting with the participants and chat panels open, the speaker view, the devices and
// reactions menus, and the screen after leaving, in bokmål.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { CLI_BIN, createMeeting, openBrowser, screenshot, server, setUp, start, stop, tearDown, tileOf } from "./harness.mjs";

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
  await guest.getByText("Hei alle").waitFor({ timeout: 10_000 });
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

  // Leaving: the screen that says so.
  await guest.getByRole("button", { name: "Forlat møtet" }).click();
  await guest.getByText(/Du har forlatt møtet/).waitFor({ timeout: 10_000 });
  await check(guest, "left");
  await stop(cli);
});
