// Browser end-to-end test of a teacher's rules for a lecture, with the real web UI in
// Chromium, the real samla-server and its SFU, and a samla-cli participant that sends its
// microphone whatever it is told (as a modified client would). The teacher stops participants
// unmuting themselves and sharing, mutes newcomers, spotlights their own video and asks for
// feedback; what must hold is what the students hear and see, not only what their buttons say.
//
// See join.test.mjs for how to build and run.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  CLI_BIN, JOIN, createMeeting, inboundStats, openBrowser, pictureDifference, samplePicture, screenshot, server, setUp,
  start, tearDown, tileOf, waitFor,
} from "./harness.mjs";

before(setUp);
after(tearDown);

/** Audio packets and energy Chromium received, over all its incoming audio. */
async function audioIn(page) {
  const { inbound } = await inboundStats(page);
  const audio = Object.values(inbound).filter((x) => x.kind === "audio");
  return {
    packets: audio.reduce((n, x) => n + x.packetsReceived, 0),
    energy: audio.reduce((n, x) => n + x.totalAudioEnergy, 0),
  };
}

/** The texts of the notices on a page. */
function notices(page) {
  return page.locator(".notices li").allTextContents();
}

test("a teacher's rules hold: a muted student is not heard until asked, nobody else shares, the spotlight shows the teacher, answers are counted", async (t) => {
  const meeting = await createMeeting({ topic: "Forelesning" });
  const { page: teacher } = await openBrowser("classroom-teacher");
  await teacher.goto(`${server.base}/j/${meeting.id}?name=Teacher&lang=en`);
  await teacher.getByRole("button", { name: JOIN }).click();
  // First in, with nobody to let her in: she hosts (her End offers "End for all").
  await teacher.locator("footer.controls summary", { hasText: "End" }).waitFor({ timeout: 20_000 });

  // The rules, set in the participants panel; each box shows what the server applied.
  await teacher.getByRole("button", { name: /^Participants/ }).click();
  const selfUnmute = teacher.getByLabel("Participants may unmute themselves");
  const share = teacher.getByLabel("Participants may share their screen");
  const onEntry = teacher.getByLabel("Mute participants when they join");
  assert.equal(await selfUnmute.isChecked(), true);
  assert.equal(await share.isChecked(), true);
  assert.equal(await onEntry.isChecked(), false);
  await selfUnmute.click();
  await share.click();
  await onEntry.click();
  await waitFor("the server to apply the rules", async () =>
    !(await selfUnmute.isChecked()) && !(await share.isChecked()) && (await onEntry.isChecked()));
  await screenshot(teacher, "60-classroom-rules");

  // A student's client that sends its microphone regardless (samla-cli does: it says it is
  // unmuted, which the server refuses, and sends the tone anyway).
  start("cli-classroom-robot", CLI_BIN, [
    "join", meeting.join_url, "--name", "Robot", "--video", "synthetic:320x180@15", "--audio", "synthetic", "--for", "120s",
  ]);
  const robotTile = tileOf(teacher, "Robot");
  await robotTile.waitFor({ timeout: 20_000 });
  // Its video reaches the teacher (media flows) ...
  const first = await waitFor("Robot's picture", async () => {
    const s = await samplePicture(robotTile);
    return s && s.stddev > 3 ? s : null;
  }, { timeoutMs: 30_000 });
  await waitFor("Robot's picture to move", async () => {
    const s = await samplePicture(robotTile);
    return s && pictureDifference(first, s) > 1;
  });
  // ... its audio does not: not one packet in three seconds of it sending.
  const heldBack = await audioIn(teacher);
  await new Promise((r) => setTimeout(r, 3000));
  const stillHeldBack = await audioIn(teacher);
  t.diagnostic(`teacher's incoming audio while Robot is held back: ${JSON.stringify(stillHeldBack)}`);
  assert.equal(stillHeldBack.packets, heldBack.packets, "the held-back microphone reached the teacher");
  assert.equal(await robotTile.getAttribute("aria-label"), "Robot, muted");

  // Asked to unmute, Robot is heard.
  await teacher.getByRole("button", { name: "Ask to unmute: Robot" }).click();
  const heard = await waitFor("the teacher to hear Robot", async () => {
    const a = await audioIn(teacher);
    return a.packets > stillHeldBack.packets + 50 && a.energy > stillHeldBack.energy ? a : null;
  });
  t.diagnostic(`teacher's incoming audio once Robot was asked: ${JSON.stringify(heard)}`);

  // A student in the browser, with the microphone on before joining: muted on entry, and told.
  const { page: student } = await openBrowser("classroom-student");
  await student.goto(`${server.base}/j/${meeting.id}?name=Student&lang=en`);
  await student.getByRole("button", { name: JOIN }).click();
  const mic = student.locator("footer.controls button[aria-keyshortcuts=M]");
  await mic.waitFor({ timeout: 20_000 });
  await waitFor("the student to be told they came in muted", async () =>
    (await notices(student)).some((n) => n.includes("The host mutes participants when they join. Raise your hand if you want to speak.")));
  // Once the microphone is open, it stays off.
  await waitFor("the microphone to open", () => mic.evaluate((b) => !b.disabled));
  assert.equal((await mic.textContent()).trim(), "Unmute");
  assert.equal(await mic.getAttribute("aria-disabled"), "true");
  // Unmute is refused, and says why; Share too. (Both stay pressable, as aria-disabled buttons
  // do, so that a screen reader user hears why; Playwright needs `force` to press them.)
  await mic.click({ force: true });
  await waitFor("the refusal to unmute", async () =>
    (await notices(student)).some((n) => n.includes("The host has not allowed participants to unmute themselves.")));
  assert.equal((await mic.textContent()).trim(), "Unmute");
  const shareButton = student.getByRole("button", { name: "Share screen" });
  assert.equal(await shareButton.getAttribute("aria-disabled"), "true");
  await shareButton.click({ force: true });
  await waitFor("the refusal to share", async () => (await notices(student)).some((n) => n.includes("Only hosts can share their screen.")));
  assert.equal(await student.getByRole("button", { name: "Stop sharing" }).count(), 0);
  await screenshot(student, "61-classroom-student-refused");

  // The student raises a hand from the notice; the teacher asks them to unmute; they can.
  await student.locator(".notices li", { hasText: "not allowed" }).getByRole("button", { name: "Raise hand" }).click();
  await teacher.locator(".notices li", { hasText: "Student raised a hand." }).waitFor({ timeout: 10_000 });
  await teacher.getByRole("button", { name: "Ask to unmute: Student" }).click();
  await student.locator(".notices li", { hasText: "Teacher asks you to unmute." }).waitFor({ timeout: 10_000 });
  await waitFor("Unmute to be allowed", async () => (await mic.getAttribute("aria-disabled")) === null);
  await mic.click();
  assert.equal((await mic.textContent()).trim(), "Mute");
  await teacher.getByRole("button", { name: "Mute Student" }).waitFor({ timeout: 10_000 });
  await screenshot(teacher, "62-classroom-student-asked");

  // The teacher spotlights her own video: the student sees her large, moving, and is told.
  await teacher.getByRole("button", { name: "Spotlight my video" }).click();
  await student.locator(".notices li", { hasText: "Teacher is now in the spotlight for everyone." }).waitFor({ timeout: 10_000 });
  const main = student.locator('.main-tile figure.tile[aria-label^="Teacher"]');
  await main.waitFor({ timeout: 10_000 });
  assert.match(await main.getAttribute("aria-label"), /in the spotlight/);
  const big = await waitFor("the teacher's picture in the main tile", async () => {
    const s = await samplePicture(main);
    return s && s.stddev > 3 ? s : null;
  }, { timeoutMs: 20_000 });
  await waitFor("it to move", async () => {
    const s = await samplePicture(main);
    return s && pictureDifference(big, s) > 1;
  });
  await screenshot(student, "63-classroom-spotlight");
  await teacher.getByRole("button", { name: "Remove spotlight" }).click();
  await teacher.getByRole("button", { name: "Spotlight my video" }).waitFor({ timeout: 10_000 });

  // "Too fast?" The student answers without words; the teacher counts, then clears.
  await student.locator("details.reactions summary").click();
  await student.getByRole("group", { name: "Feedback" }).getByRole("button", { name: "Slower" }).click();
  const summary = teacher.getByRole("group", { name: "Feedback" });
  await summary.getByText("Slower: 1").waitFor({ timeout: 10_000 });
  await teacher.locator('figure.tile[aria-label^="Student"][aria-label$="answers Slower"]').waitFor({ timeout: 10_000 });
  await screenshot(teacher, "64-classroom-feedback");
  await summary.getByRole("button", { name: "Clear feedback" }).click();
  await summary.waitFor({ state: "detached", timeout: 10_000 });
  await student.locator("details.reactions summary").click();
  assert.equal(
    await student.getByRole("group", { name: "Feedback" }).getByRole("button", { name: "Slower" }).getAttribute("aria-pressed"),
    "false",
  );
});

test("a teacher's poll: students answer from the browser and the command line, the teacher follows the counts and shares them", async (t) => {
  const meeting = await createMeeting({ topic: "Quiz" });
  const { page: teacher } = await openBrowser("poll-teacher");
  await teacher.goto(`${server.base}/j/${meeting.id}?name=Teacher&lang=en`);
  await teacher.getByRole("button", { name: JOIN }).click();
  await teacher.locator("footer.controls summary", { hasText: "End" }).waitFor({ timeout: 20_000 });
  // Two students on the command line, each answering every poll its own way, and one in a browser.
  start("cli-poll-a", CLI_BIN, ["join", meeting.join_url, "--name", "Ada", "--answer-poll", "2", "--for", "90s"]);
  start("cli-poll-b", CLI_BIN, ["join", meeting.join_url, "--name", "Bo", "--answer-poll", "1", "--for", "90s"]);
  const { page: student } = await openBrowser("poll-student");
  await student.goto(`${server.base}/j/${meeting.id}?name=Student&lang=nb`);
  await student.getByRole("button", { name: JOIN }).click();
  await teacher.getByRole("button", { name: "Participants (4)" }).waitFor({ timeout: 20_000 });
  // A participant has nothing to open before there is a poll.
  assert.equal(await student.getByRole("button", { name: "Avstemning" }).count(), 0);

  await teacher.getByRole("button", { name: "Poll" }).click();
  const panel = teacher.getByRole("region", { name: "Poll" });
  await panel.getByLabel("Question").fill("What is 2 + 2?");
  await panel.getByRole("textbox", { name: "Answer 1", exact: true }).fill("3");
  await panel.getByRole("textbox", { name: "Answer 2", exact: true }).fill("4");
  await panel.getByRole("button", { name: "Add answer" }).click();
  await panel.getByRole("textbox", { name: "Answer 3", exact: true }).fill("5");
  await panel.getByRole("button", { name: "Start poll" }).click();

  // The browser student is asked, opens the poll from the notice and answers "4".
  const asked = student.locator(".notices li", { hasText: "Teacher startet en avstemning." });
  await asked.waitFor({ timeout: 10_000 });
  await asked.getByRole("button", { name: "Svar" }).click();
  const question = student.getByRole("group", { name: "What is 2 + 2?" });
  await question.getByLabel("4").check();
  await student.getByRole("button", { name: "Send svar" }).click();
  await student.getByText("Svaret ditt er registrert").waitFor({ timeout: 10_000 });
  await screenshot(student, "65-poll-student-answered");

  // The teacher follows the counts: Ada and the student chose 4, Bo 3.
  const results = panel.getByRole("list", { name: "Results" });
  const counts = async () => (await results.locator("li").allTextContents()).map((s) => s.replace(/\s+/g, " ").trim());
  await waitFor("all three answers counted", async () => (await panel.getByText("3 answered").count()) === 1);
  t.diagnostic(`the teacher sees: ${JSON.stringify(await counts())}`);
  assert.deepEqual(await counts(), ["3 1 (33%)", "4 2 (67%)", "5 0 (0%)"]);
  await screenshot(teacher, "66-poll-teacher-counts");

  // Until shared, the student sees no counts; ended and shared, everyone does.
  await panel.getByRole("button", { name: "End poll" }).click();
  await student.getByText("Avstemningen er avsluttet.").waitFor({ timeout: 10_000 });
  assert.equal(await student.getByText("Verten har ikke delt resultatene.").count(), 1);
  await panel.getByRole("button", { name: "Share results" }).click();
  await panel.getByText("Results shared").waitFor({ timeout: 10_000 });
  const shared = student.getByRole("list", { name: "Resultater" });
  await shared.waitFor({ timeout: 10_000 });
  const studentSees = (await shared.locator("li").allTextContents()).map((s) => s.replace(/\s+/g, " ").trim());
  t.diagnostic(`the student sees: ${JSON.stringify(studentSees)}`);
  assert.deepEqual(studentSees, ["3 1 (33 %)", "4 (svaret ditt) 2 (67 %)", "5 0 (0 %)"]);
  await screenshot(student, "67-poll-student-results");
});
