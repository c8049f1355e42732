// Browser end-to-end test: the real samla-server, a real samla-cli participant and Debian's
// headless Chromium on the join page at /j/{id}.
//
//   export CARGO_TARGET_DIR=/var/tmp/samla-target
//   cargo build --bins
//   cd tests/browser && npm ci && npm test
//
// Screenshots (browser-join.png, browser-waiting-room-chat.png) and the logs of every child
// process go to test-output/ at the repository root.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import {
  CLI_BIN, JOIN, LEFT, PASSCODE_REQUIRED, WAITING, WRONG_PASSCODE, createMeeting, execFileP, inboundStats,
  logDir, openBrowser, outDir, server, setUp, start, stop, sumKey, tearDown, waitFor,
} from "./harness.mjs";

before(setUp);
after(tearDown);

test("passcode, waiting room, roster, chat and leave", async () => {
  const meeting = await createMeeting({ topic: "Venteromstest", passcode: "4321", waiting_room: true });
  const { page } = await openBrowser("signalling");
  await page.goto(`${server.base}/j/${meeting.id}?name=Gjest`);
  assert.equal(await page.getByLabel(/Your name|Navnet ditt/).inputValue(), "Gjest");

  await page.getByRole("button", { name: JOIN }).click();
  await page.getByText(PASSCODE_REQUIRED).waitFor({ timeout: 10_000 });
  const passcode = page.getByLabel(/^(Passcode|Passord)$/);
  await passcode.fill("0000");
  await page.getByRole("button", { name: JOIN }).click();
  await page.getByText(WRONG_PASSCODE).waitFor({ timeout: 10_000 });
  await passcode.fill("4321");
  await page.getByRole("button", { name: JOIN }).click();
  await page.getByText(WAITING).waitFor({ timeout: 10_000 });

  // The owner arrives with the CLI and lets everyone in.
  const events = path.join(logDir, "host-events.json");
  const host = start("cli-host", CLI_BIN, [
    "join", meeting.join_url, "--name", "Vert", "--token", server.token, "--passcode", "4321",
    "--admit-all", "--chat", "Hei fra verten", "--for", "30s", "--events-json", events,
  ]);
  const roster = page.locator("#roster");
  await roster.getByText("Vert", { exact: true }).waitFor({ timeout: 15_000 });
  await roster.getByText("Gjest", { exact: true }).waitFor();
  await page.locator("#chat-log").getByText("Hei fra verten").waitFor({ timeout: 10_000 });

  await page.getByRole("textbox", { name: "Message" }).fill("Hei fra nettleseren");
  await page.getByRole("button", { name: /^(Send)$/ }).click();
  await page.locator("#chat-log").getByText("Hei fra nettleseren").waitFor({ timeout: 10_000 });

  // Our own camera (Chromium's fake one) shows in a tile of its own.
  const self = page.locator("figure.tile.self", { hasText: /^Gjest \((you|deg)\)$/ });
  await waitFor("the self-view to play", () => self.locator("video").evaluate((v) => v.videoWidth > 0), { timeoutMs: 15_000 });
  await page.screenshot({ path: path.join(outDir, "browser-waiting-room-chat.png") });
  await page.locator("#meeting").getByRole("button", { name: /^(Leave|Forlat)$/ }).click();
  await page.getByText(LEFT).waitFor({ timeout: 5000 });

  await stop(host);
  const hostEvents = await readFile(events, "utf8").catch(() => null);
  assert.ok(hostEvents, `the CLI host wrote no ${events}; see test-output/browser-logs/cli-host.log`);
  assert.ok(hostEvents.includes("Hei fra nettleseren"), "the CLI host never received the browser's chat message");
});

test("media both ways between Chromium and a samla-cli participant", async (t) => {
  const { stdout: help } = await execFileP(CLI_BIN, ["join", "--help"]);
  assert.ok(help.includes("--video"), "samla-cli join has no --video yet: the client media engine has not landed");

  const meeting = await createMeeting({ topic: "Nettlesertest" });
  const statsFile = path.join(logDir, "robot-stats.json");
  await rm(statsFile, { force: true });
  const robot = start("cli-robot", CLI_BIN, [
    "join", meeting.join_url, "--name", "Robot", "--video", "synthetic:640x360@30", "--audio", "synthetic",
    "--stats-json", statsFile, "--for", "40s",
  ]);

  const { page } = await openBrowser("media");
  await page.goto(`${server.base}/j/${meeting.id}?name=Nettleser`);
  await page.getByRole("button", { name: JOIN }).click();
  await page.locator("#roster").getByText("Robot", { exact: true }).waitFor({ timeout: 15_000 });

  // What a user sees: a tile captioned "Robot" with moving video in it.
  const tile = page.locator("figure.tile.remote", { has: page.locator("figcaption", { hasText: /^Robot$/ }) });
  await tile.waitFor({ timeout: 20_000 });
  await waitFor("video in Robot's tile", () => tile.locator("video").evaluate((v) => v.videoWidth > 0 && v.readyState >= 2), { timeoutMs: 30_000 });
  const videoMid = await tile.getAttribute("data-mid");
  const audioMid = await waitFor("an audio element for Robot", () =>
    page.evaluate(() => document.querySelector('#audio-sinks audio[data-name="Robot"]')?.dataset.mid),
  );

  const stats = await waitFor(
    "Chromium to decode Robot's video and receive its audio",
    async () => {
      const s = await inboundStats(page);
      const v = s.inbound[videoMid];
      const a = s.inbound[audioMid];
      return v?.framesDecoded > 0 && a?.packetsReceived > 0 ? s : null;
    },
    { timeoutMs: 30_000 },
  );
  // A few seconds more, so the screenshot and the robot's numbers have something to show.
  await new Promise((r) => setTimeout(r, 4000));
  const later = await inboundStats(page);
  t.diagnostic(`chromium inbound video (mid ${videoMid}): ${JSON.stringify(later.inbound[videoMid])}`);
  t.diagnostic(`chromium inbound audio (mid ${audioMid}): ${JSON.stringify(later.inbound[audioMid])}`);
  t.diagnostic(`chromium outbound: ${JSON.stringify(later.outbound)}`);
  t.diagnostic(`page state: ${JSON.stringify(await page.evaluate(() => window.samlaDebug.state))}`);
  assert.ok(later.inbound[videoMid].framesDecoded >= stats.inbound[videoMid].framesDecoded);
  await page.screenshot({ path: path.join(outDir, "browser-join.png") });

  // What the robot got from Chromium. Its stats file is written on exit at the latest.
  await stop(robot);
  const raw = await readFile(statsFile, "utf8").catch(() => null);
  assert.ok(raw, `samla-cli wrote no ${statsFile}; see test-output/browser-logs/cli-robot.log`);
  const robotStats = JSON.parse(raw);
  t.diagnostic(`robot stats: ${raw.slice(0, 2000)}`);
  assert.ok(sumKey(robotStats, "frames_decoded") > 0, "the Robot decoded no video from Chromium (frames_decoded is 0)");
  assert.ok(sumKey(robotStats, "audio_frames_decoded") > 0, "the Robot decoded no audio from Chromium (audio_frames_decoded is 0)");
});
