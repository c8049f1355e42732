// Browser end-to-end test of media with the real web UI: Chromium and two samla-cli
// participants in one meeting on the real samla-server and its SFU. Chromium must show a
// gallery tile per participant with a moving picture in it, decode their video and hear
// their audio; the samla-cli participant must decode Chromium's video and audio, also after
// Chromium picks another microphone and another camera in the meeting.
//
// See join.test.mjs for how to build and run.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import path from "node:path";
import {
  CLI_BIN, JOIN, createMeeting, execFileP, inboundStats, logDir, openBrowser, pictureDifference, readJson, samplePicture,
  screenshot, server, setUp, start, stop, tearDown, tileOf, waitFor,
} from "./harness.mjs";

before(setUp);
after(tearDown);

/** Waits for a tile's video to show a picture that is not blank, then for it to move. */
async function assertMovingPicture(t, tile, who) {
  const first = await waitFor(
    `a picture that is not blank in ${who}'s tile`,
    async () => {
      const s = await samplePicture(tile);
      // A blank picture (black, or one colour) has a standard deviation of about 0.
      return s && s.stddev > 3 ? s : null;
    },
    { timeoutMs: 30_000 },
  );
  const moved = await waitFor(
    `the picture in ${who}'s tile to move`,
    async () => {
      const s = await samplePicture(tile);
      return s && pictureDifference(first, s) > 1 ? s : null;
    },
    { timeoutMs: 15_000 },
  );
  t.diagnostic(
    `${who}: ${first.width}x${first.height}, luma mean ${first.mean.toFixed(1)} stddev ${first.stddev.toFixed(1)}, ` +
      `moved by ${pictureDifference(first, moved).toFixed(1)}`,
  );
}

/** Waits up to 30 s until the Robot's stats (written every second to `statsFile`) of what it
 * got from Chromium pass `check`; returns them. */
function robotSeesChromium(what, check, statsFile) {
  return waitFor(
    what,
    async () => {
      const s = await readJson(statsFile, "the Robot");
      const c = Object.values(s).find((x) => x.name === "Nettleser");
      return c && check(c) ? c : null;
    },
    { timeoutMs: 30_000 },
  );
}

test("Chromium and samla-cli participants see and hear each other in the gallery", async (t) => {
  const { stdout: help } = await execFileP(CLI_BIN, ["join", "--help"]);
  assert.ok(help.includes("--video"), "samla-cli join has no --video");

  const meeting = await createMeeting({ topic: "Medietest" });
  const statsFile = path.join(logDir, "media-robot-stats.json");
  await rm(statsFile, { force: true });
  const robot = start("cli-media-robot", CLI_BIN, [
    "join", meeting.join_url, "--name", "Robot", "--video", "synthetic:640x360@30", "--audio", "synthetic",
    "--stats-json", statsFile, "--for", "90s",
  ]);
  const robot2 = start("cli-media-robot2", CLI_BIN, [
    "join", meeting.join_url, "--name", "Robot 2", "--video", "synthetic:640x360@30", "--audio", "synthetic",
    "--no-decode", "--for", "90s",
  ]);

  const { page } = await openBrowser("media");
  await page.goto(`${server.base}/j/${meeting.id}?name=Nettleser&lang=nb`);
  await page.getByRole("button", { name: JOIN }).click();

  // What a user sees: a tile per participant (the two robots and ourselves), each with a
  // moving picture.
  const robotTile = tileOf(page, "Robot");
  const robot2Tile = tileOf(page, "Robot 2");
  const selfTile = page.locator("figure.tile.self");
  await robotTile.waitFor({ timeout: 20_000 });
  await robot2Tile.waitFor({ timeout: 20_000 });
  await selfTile.waitFor({ timeout: 20_000 });
  assert.equal(await page.locator(".grid figure.tile").count(), 3, "the gallery should show one tile per participant");
  await assertMovingPicture(t, robotTile, "Robot");
  await assertMovingPicture(t, robot2Tile, "Robot 2");
  await assertMovingPicture(t, selfTile, "Nettleser (self view)");

  // What Chromium's WebRTC says: both robots' video decoded and their tones heard.
  const stats = await waitFor(
    "Chromium to decode both robots' video and hear their audio",
    async () => {
      const s = await inboundStats(page);
      const all = Object.values(s.inbound);
      const video = all.filter((x) => x.kind === "video" && x.framesDecoded > 0);
      const audio = all.filter((x) => x.kind === "audio" && x.totalAudioEnergy > 0);
      return video.length >= 2 && audio.length >= 2 ? s : null;
    },
    { timeoutMs: 30_000 },
  );
  t.diagnostic(`chromium inbound: ${JSON.stringify(stats.inbound)}`);
  t.diagnostic(`chromium outbound: ${JSON.stringify(stats.outbound)}`);
  assert.ok(Object.values(stats.inbound).every((x) => x.kind !== "video" || /h264/i.test(x.codec)), "video other than H.264 arrived");
  await screenshot(page, "20-media-gallery");

  await page.getByRole("button", { name: "Talervisning" }).click();
  await page.locator(".main-tile figure.tile").waitFor();
  await assertMovingPicture(t, page.locator(".main-tile figure.tile"), "the speaker view's main tile");
  await screenshot(page, "21-media-speaker-view");

  // Robot 2 pinned: the main picture, whoever speaks, and moving; unpinned, it need not be.
  await page.locator('.strip figure.tile[aria-label^="Robot 2"] button.pin, .main-tile figure.tile[aria-label^="Robot 2"] button.pin').first().click({ force: true });
  const pinned = page.locator('.main-tile figure.tile[aria-label^="Robot 2"]');
  await pinned.waitFor({ timeout: 5_000 });
  await assertMovingPicture(t, pinned, "Robot 2, pinned");
  assert.equal(await pinned.locator("button.pin").getAttribute("aria-pressed"), "true");
  await screenshot(page, "21-media-pinned");
  await pinned.locator("button.pin").click();
  assert.equal(await page.locator('button.pin[aria-pressed="true"]').count(), 0);

  // What the robot got from Chromium: its stats file is written every second and on exit.
  const fromChromium = await robotSeesChromium("the Robot to decode Chromium's video and audio", (c) => c.frames_decoded > 0 && c.audio_frames_decoded > 0, statsFile);
  t.diagnostic(`robot's stats for Chromium: ${JSON.stringify(fromChromium)}`);

  // Another microphone, picked in the meeting's audio menu: Chromium sends it on the same
  // connection (its sender's track is replaced), and the Robot goes on hearing Chromium.
  await page.getByText("Enheter", { exact: true }).click();
  const mics = page.locator("#meeting-mic option");
  const labels = await mics.allTextContents();
  t.diagnostic(`microphones in the meeting: ${labels.join(", ")}`);
  assert.ok(labels.length >= 2, "the meeting's audio menu lists no microphone");
  const picked = labels.at(-1);
  await page.locator("#meeting-mic").selectOption({ label: picked });
  // The picker shows it once the page is sending it.
  const pickedId = await mics.nth(labels.length - 1).getAttribute("value");
  await waitFor("the picker to show the microphone in use", async () => ((await page.locator("#meeting-mic").inputValue()) === pickedId ? true : null), {
    timeoutMs: 10_000,
  });
  assert.equal(await page.locator(".devices-menu [role=alert]").count(), 0, "the microphone picked was refused");
  const framesBefore = fromChromium.audio_frames_decoded;
  const after = await robotSeesChromium("the Robot to hear Chromium on the microphone picked", (c) => c.audio_frames_decoded > framesBefore + 100, statsFile);
  t.diagnostic(`after picking ${picked}: the Robot decoded ${after.audio_frames_decoded - framesBefore} more audio frames`);

  // Another camera, from the same menu: Chromium sends it on the same track, the Robot goes on
  // decoding Chromium's video, and the self view plays it. Chromium runs with three fake cameras
  // (harness.mjs); the second delivers 16-bit depth frames, which WebRTC does not encode (1
  // frame in 1.5 s after replaceTrack, against 27 from the third), so the third is picked.
  const cameras = page.locator("#meeting-camera option");
  const cameraLabels = await cameras.allTextContents();
  t.diagnostic(`cameras in the meeting: ${cameraLabels.join(", ")}`);
  const otherCamera = "fake_device_2";
  assert.ok(cameraLabels.includes(otherCamera), "the meeting's menu does not list every camera");
  const cameraId = await cameras.nth(cameraLabels.indexOf(otherCamera)).getAttribute("value");
  await page.locator("#meeting-camera").selectOption({ label: otherCamera });
  await waitFor("the picker to show the camera in use", async () => ((await page.locator("#meeting-camera").inputValue()) === cameraId ? true : null), {
    timeoutMs: 10_000,
  });
  assert.equal(await page.locator(".devices-menu [role=alert]").count(), 0, "the camera picked was refused");
  const videoBefore = after.frames_decoded;
  const video = await robotSeesChromium("the Robot to see Chromium on the camera picked", (c) => c.frames_decoded > videoBefore + 30, statsFile);
  t.diagnostic(`after picking ${otherCamera}: the Robot decoded ${video.frames_decoded - videoBefore} more frames`);
  // The self view plays the camera picked (this fake camera's picture is a plain green, so it
  // is told by its track, not its picture).
  await waitFor("the self view to show the camera picked", () => selfTile.locator("video").evaluate((v) => v.srcObject?.getVideoTracks()[0]?.label === "fake_device_2" || null), {
    timeoutMs: 10_000,
  });
  await screenshot(page, "22-media-devices-picked");

  // The SFU found every publisher's keyframes in a header extension (frame marking from
  // samla-cli, the dependency descriptor from Chromium), never by reading a payload.
  const metrics = await (await fetch(`${server.base}/metrics`)).text();
  const counter = (name) => Number(metrics.match(new RegExp(`^${name} (\\d+)$`, "m"))?.[1]);
  const inHeader = counter("samla_media_keyframes_marked_total");
  const sniffed = counter("samla_media_keyframes_sniffed_total");
  t.diagnostic(`keyframes found in a header: ${inHeader}, by reading a payload: ${sniffed}`);
  // The SFU starts forwarding a publisher at a keyframe, so the Robot decoding Chromium's
  // video means Chromium's keyframes were found: with none sniffed, in its header.
  assert.ok(inHeader > 0, "no keyframe was found in a header extension");
  assert.equal(sniffed, 0, "the SFU read payloads to find keyframes");
  await stop(robot);
  await stop(robot2);
});
