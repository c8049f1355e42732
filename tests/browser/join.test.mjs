// Browser end-to-end tests of signalling with the real web UI: the real samla-server (which
// serves the UI built from ui/), real samla-cli participants and Debian's headless Chromium.
//
//   (cd ui && npm ci && npm run build)
//   export CARGO_TARGET_DIR=/var/tmp/samla-target
//   cargo build --bins
//   cd tests/browser && npm ci && npm test
//
// Screenshots of each step go to test-output/browser/, the logs of every child process and
// page to test-output/browser-logs/, at the repository root.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import {
  CLI_BIN, JOIN, LEFT, PASSCODE_REQUIRED, WAITING, WRONG_PASSCODE, createMeeting, logDir, openBrowser, readJson,
  screenshot, server, serverEvents, setUp, start, stop, tearDown, tileOf, waitFor,
} from "./harness.mjs";

before(setUp);
after(tearDown);

/** The chat messages a samla-cli participant received, as "from: text". */
function chatSeen(events) {
  return serverEvents(events, "chat").map((e) => `${e.message.from_name}: ${e.message.text}`);
}

test("a guest gets past the passcode and the waiting room, chats both ways and leaves", async () => {
  const meeting = await createMeeting({ topic: "Venteromstest", passcode: "4321", waiting_room: true });
  const { page } = await openBrowser("guest");
  await page.goto(`${server.base}/j/${meeting.id}?name=Gjest&lang=en`);
  assert.equal(await page.getByLabel("Your name").inputValue(), "Gjest");
  // Before joining, the camera preview shows Chromium's fake camera.
  const preview = page.getByRole("img", { name: "Camera preview" });
  await waitFor("the camera preview to play", () => preview.locator("video").evaluate((v) => v.videoWidth > 0), { timeoutMs: 15_000 });
  await screenshot(page, "01-guest-prejoin");

  await page.getByRole("button", { name: JOIN }).click();
  await page.getByText(PASSCODE_REQUIRED).waitFor({ timeout: 10_000 });
  const passcode = page.getByLabel(/^(Passcode|Passord)$/);
  await passcode.fill("0000");
  await page.getByRole("button", { name: JOIN }).click();
  await page.getByText(WRONG_PASSCODE).waitFor({ timeout: 10_000 });
  await screenshot(page, "02-guest-wrong-passcode");
  await passcode.fill("4321");
  await page.getByRole("button", { name: JOIN }).click();
  await page.getByText(WAITING).waitFor({ timeout: 10_000 });
  await screenshot(page, "03-guest-waiting-room");

  // The owner arrives with the CLI and lets everyone in.
  const hostEvents = path.join(logDir, "guest-test-host-events.json");
  const host = start("cli-host", CLI_BIN, [
    "join", meeting.join_url, "--name", "Vert", "--token", server.token, "--passcode", "4321",
    "--admit-all", "--chat", "Hei fra verten", "--for", "60s", "--events-json", hostEvents,
  ]);
  await tileOf(page, "Vert").waitFor({ timeout: 20_000 });
  const self = page.locator("figure.tile.self");
  assert.equal((await self.locator("figcaption .name").textContent()).trim(), "Gjest (you)");
  await waitFor("the self view to play", () => self.locator("video").evaluate((v) => v.videoWidth > 0), { timeoutMs: 15_000 });

  // Someone else arrives and writes while our chat panel is closed: an unread badge.
  const olaEvents = path.join(logDir, "guest-test-ola-events.json");
  const ola = start("cli-ola", CLI_BIN, [
    "join", meeting.join_url, "--name", "Ola", "--passcode", "4321", "--chat", "Hei fra Ola",
    "--for", "60s", "--events-json", olaEvents,
  ]);
  await tileOf(page, "Ola").waitFor({ timeout: 20_000 });
  const unread = page.getByRole("button", { name: "Chat, 1 unread" });
  await unread.waitFor({ timeout: 15_000 });
  assert.equal((await unread.locator(".badge").textContent()).trim(), "1");
  // And the message itself, for a moment, with a way into the chat.
  const chatPreview = page.locator(".notices li", { hasText: "Ola: Hei fra Ola" });
  await chatPreview.waitFor({ timeout: 5000 });
  await screenshot(page, "04-guest-unread-badge");

  // Opening the chat (from the preview) shows both messages (the host's from before we came
  // in), and clears the badge and the preview.
  await chatPreview.getByRole("button", { name: "Open chat" }).click();
  await chatPreview.waitFor({ state: "detached", timeout: 5000 });
  const chat = page.getByRole("region", { name: "Chat" });
  await chat.getByText("Hei fra Ola").waitFor({ timeout: 5000 });
  await chat.getByText("Hei fra verten").waitFor({ timeout: 5000 });
  await page.getByRole("button", { name: "Chat", exact: true }).waitFor();
  assert.equal(await page.locator(".badge.unread").count(), 0, "the unread badge stayed after opening the chat");

  await chat.getByRole("textbox", { name: "Write a message" }).fill("Hei fra nettleseren");
  await chat.getByRole("button", { name: "Send" }).click();
  await chat.getByText("Hei fra nettleseren").waitFor({ timeout: 10_000 });
  await screenshot(page, "05-guest-chat");

  // The participants panel lists everyone, with no host controls for a guest.
  await page.getByRole("button", { name: /^Participants \(3\)/ }).click();
  const people = page.getByRole("region", { name: /^Participants \(3\)$/ });
  for (const name of ["Vert", "Ola", "Gjest"]) await people.locator(".roster .name", { hasText: new RegExp(`^${name}$`) }).waitFor();
  assert.equal(await people.getByRole("button").count(), 0, "a guest was offered host controls");
  await screenshot(page, "06-guest-participants");

  await page.getByRole("button", { name: /^(Leave meeting|Forlat møtet)$/ }).click();
  await page.getByText(LEFT).waitFor({ timeout: 5000 });
  await screenshot(page, "07-guest-left");

  await stop(host);
  await stop(ola);
  for (const [who, file] of [["the CLI host", hostEvents], ["Ola", olaEvents]]) {
    const seen = chatSeen(await readJson(file, who));
    assert.ok(seen.includes("Gjest: Hei fra nettleseren"), `${who} never received the browser's chat message: ${JSON.stringify(seen)}`);
  }
});

/** Signs in under Settings with the server's API token, and goes back home. */
async function signIn(page) {
  await page.getByRole("button", { name: "Innstillinger" }).first().click();
  await page.getByLabel("API-nøkkel").fill(server.token);
  await page.getByRole("button", { name: "Logg inn" }).click();
  await page.getByText(/^Logget inn som Vert \(vert@example\.test\)/).waitFor({ timeout: 10_000 });
  await page.getByText("Nøkkelen huskes bare i denne fanen.").waitFor();
  await screenshot(page, "10-host-signed-in");
  await page.getByRole("button", { name: "Tilbake" }).click();
}

test("Chromium hosts a meeting from the home page and admits a samla-cli guest from the waiting room", async () => {
  const { page } = await openBrowser("host");
  await page.goto(`${server.base}/?lang=nb&name=Kari`);
  // Signed out, the home page points to Settings; a wrong token is refused there.
  await page.getByText("Logg inn under Innstillinger for å starte møter").waitFor({ timeout: 10_000 });
  await page.getByRole("button", { name: "Innstillinger" }).first().click();
  await page.getByLabel("API-nøkkel").fill("samla_feil");
  await page.getByRole("button", { name: "Logg inn" }).click();
  await page.getByText(/^Serveren godtok ikke nøkkelen: /).waitFor({ timeout: 10_000 });
  await page.getByRole("button", { name: "Tilbake" }).click();
  await signIn(page);
  const hostNow = page.getByRole("form", { name: "Start et møte" });
  await hostNow.getByLabel("Emne").fill("Forelesning INF1000");
  assert.ok(await hostNow.getByLabel("Bruk venterom").isChecked(), "a new meeting should have a waiting room by default");
  await screenshot(page, "10-host-home-signed-in");
  await page.getByRole("button", { name: "Start et møte" }).click();

  await page.getByText(/^Møte-ID \d/).waitFor({ timeout: 10_000 });
  assert.equal(await page.getByLabel("Navnet ditt").inputValue(), "Kari");
  await page.getByRole("button", { name: "Bli med" }).click();

  // In the meeting: the header shows the link others join by.
  const link = (await page.getByLabel("Møtelenke").textContent({ timeout: 15_000 })).trim();
  assert.match(link, new RegExp(`^${server.base.replace(/\./g, "\\.")}/j/\\d{9,11}$`));

  const guestEvents = path.join(logDir, "host-test-guest-events.json");
  const guest = start("cli-guest", CLI_BIN, [
    "join", link, "--name", "Ola", "--chat", "Takk for at jeg fikk komme inn", "--for", "60s", "--events-json", guestEvents,
  ]);
  // The host is told who is waiting, and the participants button says so; the panel lets the
  // host admit them.
  const told = page.locator(".notices li", { hasText: "Ola venter i venterommet." });
  await told.waitFor({ timeout: 15_000 });
  const participants = page.getByRole("button", { name: /^Deltakere \(1\).*1 venter/ });
  await participants.waitFor({ timeout: 15_000 });
  await screenshot(page, "11-host-someone-waiting");
  await participants.click();
  const panel = page.getByRole("region", { name: /^Deltakere/ });
  const waitingRoom = panel.getByRole("region", { name: "Venterom" });
  await waitingRoom.getByText("Ola", { exact: true }).waitFor();
  await screenshot(page, "12-host-waiting-room-panel");
  await waitingRoom.getByRole("button", { name: "Slipp inn Ola" }).click();

  await tileOf(page, "Ola").waitFor({ timeout: 15_000 });
  await told.waitFor({ state: "detached", timeout: 10_000 });
  await panel.locator(".roster .name", { hasText: /^Ola$/ }).waitFor();
  await waitingRoom.getByText("Ingen venter.").waitFor();
  await page.getByRole("button", { name: "Chat, 1 uleste" }).waitFor({ timeout: 15_000 });
  await screenshot(page, "13-host-admitted");

  await stop(guest);
  const events = await readJson(guestEvents, "the CLI guest");
  assert.ok(serverEvents(events, "waiting").length >= 1, "the CLI guest was never in the waiting room");
  const joined = serverEvents(events, "joined");
  assert.equal(joined.length, 1, `the CLI guest was not admitted: ${JSON.stringify(events.map((e) => e.event?.type))}`);
  assert.ok(joined[0].participants.some((p) => p.name === "Kari" && p.role === "host"), "Kari (Chromium) is not the host");
});

test("a signed-in teacher sees her upcoming meetings on the home page and starts one as its host", async () => {
  const soon = new Date(Date.now() + 60 * 60_000);
  soon.setUTCSeconds(0, 0);
  const lecture = await createMeeting({ topic: "INF1000 – forelesning 12", start_time: soon.toISOString(), duration_minutes: 90, waiting_room: true });
  await createMeeting({ topic: "Et straksmøte" });
  await createMeeting({ topic: "Forrige uke", start_time: new Date(Date.now() - 7 * 86_400_000).toISOString(), duration_minutes: 90 });

  const { page } = await openBrowser("teacher");
  await page.goto(`${server.base}/?lang=nb&name=Kari`);
  await page.getByText("Logg inn under Innstillinger for å starte møter").waitFor({ timeout: 10_000 });
  await signIn(page);
  const upcoming = page.getByRole("region", { name: "Mine kommende møter" });
  const item = upcoming.getByRole("listitem").filter({ hasText: lecture.topic });
  await item.waitFor({ timeout: 10_000 });
  const topics = await upcoming.locator("li strong").allTextContents();
  assert.ok(!topics.includes("Et straksmøte") && !topics.includes("Forrige uke"), `only upcoming scheduled meetings are listed: ${topics}`);
  // The start time as the page's clock reads it, in Norwegian.
  const shown = new Intl.DateTimeFormat("nb-NO", { hour: "2-digit", minute: "2-digit" }).format(soon);
  assert.ok((await item.textContent()).includes(shown), `${await item.textContent()} lacks ${shown}`);
  await screenshot(page, "14-teacher-upcoming-meetings");

  // She schedules office hours for tomorrow at 10:00 (her clock) from the page, then deletes them.
  await page.getByText("Planlegg et møte").click();
  const form = page.getByRole("form", { name: "Planlegg et møte" });
  await form.getByLabel("Emne").fill("Kontortid");
  const tomorrow = new Date();
  tomorrow.setDate(tomorrow.getDate() + 1);
  const day = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, "0")}-${String(tomorrow.getDate()).padStart(2, "0")}`;
  await form.getByLabel("Starter").fill(`${day}T10:00`);
  await form.getByLabel("Varighet").selectOption({ label: "45 min" });
  await form.getByRole("button", { name: "Planlegg" }).click();
  await form.getByText("Møtet er planlagt.").waitFor({ timeout: 10_000 });
  const officeHours = upcoming.getByRole("listitem").filter({ hasText: "Kontortid" });
  await officeHours.waitFor({ timeout: 10_000 });
  assert.match(await officeHours.locator("time").textContent(), /^I morgen 10:00$/);
  const stored = (await (await fetch(`${server.base}/api/v1/meetings`, { headers: { authorization: `Bearer ${server.token}` } })).json())
    .find((m) => m.topic === "Kontortid");
  assert.equal(new Date(stored.start_time).getTime(), new Date(`${day}T10:00`).getTime(), "the server holds another start time than the one typed");
  assert.equal(stored.duration_minutes, 45);
  await screenshot(page, "14-teacher-scheduled-office-hours");

  // Moved an hour later and renamed: the form opens with the meeting as it is.
  await officeHours.getByRole("button", { name: "Endre «Kontortid»" }).click();
  const edit = page.getByRole("form", { name: "Endre «Kontortid»" });
  assert.equal(await edit.getByLabel("Emne").inputValue(), "Kontortid");
  assert.equal(await edit.getByLabel("Starter").inputValue(), `${day}T10:00`);
  assert.equal(await edit.getByLabel("Varighet").inputValue(), "45");
  await edit.getByLabel("Emne").fill("Kontortid (flyttet)");
  await edit.getByLabel("Starter").fill(`${day}T11:00`);
  await edit.getByRole("button", { name: "Lagre" }).click();
  const moved = upcoming.getByRole("listitem").filter({ hasText: "Kontortid (flyttet)" });
  await moved.waitFor({ timeout: 10_000 });
  assert.match(await moved.locator("time").textContent(), /^I morgen 11:00$/);
  await screenshot(page, "14-teacher-moved-office-hours");

  page.once("dialog", (dialog) => void dialog.accept());
  await moved.getByRole("button", { name: "Slett «Kontortid (flyttet)»" }).click();
  await moved.waitFor({ state: "detached", timeout: 10_000 });

  // The token is kept for the tab: a reload stays signed in.
  await page.reload();
  await item.waitFor({ timeout: 10_000 });
  await item.getByRole("button", { name: `Start «${lecture.topic}»` }).click();
  const id = lecture.id;
  const pretty = id.length === 9 ? `${id.slice(0, 3)} ${id.slice(3, 6)} ${id.slice(6)}` : `${id.slice(0, 3)} ${id.slice(3, 7)} ${id.slice(7)}`;
  await page.getByText(`Møte-ID ${pretty}`).waitFor({ timeout: 10_000 });
  await page.getByRole("button", { name: "Bli med" }).click();
  // As its owner she is its host: straight in (no waiting room), with the host's controls.
  assert.equal((await page.getByLabel("Møtelenke").textContent({ timeout: 15_000 })).trim(), lecture.join_url);
  const self = page.locator("figure.tile.self");
  await self.waitFor({ timeout: 15_000 });
  await page.getByRole("button", { name: /^Deltakere/ }).click();
  await page.getByRole("region", { name: /^Deltakere/ }).locator(".roster li", { hasText: "Kari" }).locator(".badges", { hasText: /\bvert\b/ }).waitFor({ timeout: 10_000 });
  await screenshot(page, "15-teacher-hosts-scheduled-meeting");
});

test("after a seminar the teacher takes the attendance from the home page, and saves it for a spreadsheet", async () => {
  const seminar = await createMeeting({ topic: "Seminar 3 – oppmøte" });
  // The teacher (signed in, with her token) and a guest come and go with samla-cli.
  const teacher = start("cli-attendance-vert", CLI_BIN, ["join", seminar.join_url, "--name", "Vert", "--token", server.token, "--for", "4s"]);
  const guest = start("cli-attendance-guest", CLI_BIN, ["join", seminar.join_url, "--name", "Øyvind Ås", "--for", "2s"]);
  await waitFor("both to have left", () => teacher.exitCode !== null && guest.exitCode !== null, { timeoutMs: 30_000 });

  const { page } = await openBrowser("attendance");
  await page.goto(`${server.base}/?lang=nb&name=Vert`);
  await signIn(page);
  const past = page.getByRole("region", { name: "Tidligere møter" });
  const item = past.getByRole("listitem").filter({ hasText: seminar.topic });
  await item.getByRole("button", { name: `Oppmøte på «${seminar.topic}»` }).click({ timeout: 10_000 });
  const table = item.getByRole("table");
  await table.waitFor({ timeout: 10_000 });
  const rows = await table.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
  assert.equal(rows.length, 2, JSON.stringify(rows));
  // In the order they came, which the two did at about the same time.
  const byName = ([a], [b]) => a.localeCompare(b);
  assert.deepEqual(
    rows.map((r) => [r[0], r[1], r[5]]).sort(byName),
    [["Vert", "vert@example.test", "1"], ["Øyvind Ås", "gjest", "1"]].sort(byName),
  );
  assert.ok(rows.every((r) => /^\d\d:\d\d$/.test(r[2]) && /^\d\d:\d\d$/.test(r[3])), `both came and left: ${JSON.stringify(rows)}`);
  await screenshot(page, "16-teacher-attendance");

  // Saved as a file: the server's CSV, with the byte-order mark that makes Excel read "Ø".
  const [download] = await Promise.all([page.waitForEvent("download"), item.getByRole("button", { name: /^Last ned CSV/ }).click()]);
  assert.equal(download.suggestedFilename(), `attendance-${seminar.id}.csv`);
  const { readFile } = await import("node:fs/promises");
  const bytes = await readFile(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const lines = bytes.subarray(3).toString("utf8").split("\r\n");
  assert.equal(lines[0], "name,email,first_joined,last_left,minutes,times_joined");
  assert.equal(lines.length, 4, "a header, two people and the last line's end");
  assert.match(lines.find((l) => l.startsWith("Øyvind")), /^Øyvind Ås,,\d{4}-\d\d-\d\dT[\d:]+Z,\d{4}-\d\d-\d\dT[\d:]+Z,0,1$/);
});
