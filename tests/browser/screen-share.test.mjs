// Browser end-to-end test of screen sharing with the real web UI: one Chromium page shares its
// screen (getDisplayMedia; headless Chromium with --use-fake-ui-for-media-stream and
// --use-fake-device-for-media-stream hands out a fake 1280x720 "screen:" source without a
// picker), a samla-cli participant decodes it through the real samla-server's SFU, and a
// second Chromium page shows it as the main tile of the speaker view.
//
// samla-cli's --stats-json counts the screen track of a participant apart from its camera
// (`screen_frames_decoded`, `screen_height` of the last screen picture); its --events-json
// shows the screen track announced in `media_tracks` with kind "screen". The sharer joins
// with its camera off.
//
// See join.test.mjs for how to build and run.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import {
  CLI_BIN, JOIN, createMeeting, inboundStats, logDir, openBrowser, pictureDifference, readJson, samplePicture, screenshot,
  server, serverEvents, setUp, start, stop, tearDown, tileOf, waitFor,
} from "./harness.mjs";

before(setUp);
after(tearDown);

/** Waits for a picture that is not blank in `tile`, then for it to change; returns both samples. */
async function movingPicture(tile, who) {
  const first = await waitFor(
    `a picture that is not blank in ${who}`,
    async () => {
      const s = await samplePicture(tile);
      return s && s.stddev > 3 ? s : null;
    },
    { timeoutMs: 30_000 },
  );
  const later = await waitFor(
    `the picture in ${who} to change`,
    async () => {
      const s = await samplePicture(tile);
      return s && pictureDifference(first, s) > 1 ? s : null;
    },
    { timeoutMs: 20_000 },
  );
  return { first, later };
}

/** The luma of a binary PPM (P6) averaged into a 64x36 grid, as `samplePicture` samples a
 * tile; null while the file is missing or half written. */
async function ppmLuma(file) {
  const bytes = await readFile(file).catch(() => null);
  if (!bytes) return null;
  const header = bytes.subarray(0, 32).toString("latin1").match(/^P6\s+(\d+)\s+(\d+)\s+255\s/);
  if (!header) return null;
  const [w, h] = [Number(header[1]), Number(header[2])];
  const start = header[0].length;
  if (bytes.length < start + w * h * 3) return null;
  const [gw, gh] = [64, 36];
  const sums = new Float64Array(gw * gh);
  const counts = new Float64Array(gw * gh);
  for (let y = 0; y < h; y++) {
    const gy = Math.floor((y * gh) / h);
    for (let x = 0; x < w; x++) {
      const i = start + (y * w + x) * 3;
      const cell = gy * gw + Math.floor((x * gw) / w);
      sums[cell] += 0.299 * bytes[i] + 0.587 * bytes[i + 1] + 0.114 * bytes[i + 2];
      counts[cell] += 1;
    }
  }
  return { width: w, height: h, luma: [...sums].map((v, i) => v / counts[i]) };
}

/** What the sharer's page is capturing right now (the stream getDisplayMedia gave it),
 * sampled like `samplePicture`. */
function sampleSharedScreen(page) {
  return page.evaluate(async () => {
    const stream = window.__samlaShared;
    if (!stream || !stream.active) return null;
    const v = document.createElement("video");
    v.muted = true;
    v.srcObject = stream;
    await v.play();
    await new Promise((r) => v.requestVideoFrameCallback(() => r()));
    const [w, h] = [64, 36];
    const c = document.createElement("canvas");
    c.width = w;
    c.height = h;
    const g = c.getContext("2d", { willReadFrequently: true });
    g.drawImage(v, 0, 0, w, h);
    v.srcObject = null;
    const px = g.getImageData(0, 0, w, h).data;
    const luma = [];
    for (let i = 0; i < px.length; i += 4) luma.push(0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2]);
    return { luma };
  });
}

/** The robot's stats for the participant named `name` (null until it has any). */
async function statsFor(file, name) {
  const all = await readJson(file, "the Robot").catch(() => null);
  return all ? (Object.values(all).find((x) => x.name === name) ?? null) : null;
}

test("a screen shared from Chromium reaches samla-cli and is the main tile of another Chromium's speaker view", async (t) => {
  const meeting = await createMeeting({ topic: "Skjermdeling" });
  const statsFile = path.join(logDir, "screen-robot-stats.json");
  const eventsFile = path.join(logDir, "screen-robot-events.json");
  const framesDir = path.join(logDir, "screen-robot-frames");
  await rm(statsFile, { force: true });
  await rm(eventsFile, { force: true });
  await rm(framesDir, { recursive: true, force: true });
  await mkdir(framesDir, { recursive: true });
  const robot = start("cli-screen-robot", CLI_BIN, [
    "join", meeting.join_url, "--name", "Robot", "--video", "synthetic:640x360@30", "--audio", "synthetic",
    "--stats-json", statsFile, "--events-json", eventsFile, "--save-frames", framesDir, "--for", "150s",
  ]);

  // The sharer joins with its camera off, and its microphone off so that the viewer's speaker
  // view shows the Robot (the only other camera) until the screen comes.
  const { page: sharer } = await openBrowser("screen-sharer");
  // Keeps the stream the page gets from getDisplayMedia, to compare what was on the (fake)
  // screen with what the Robot decodes.
  await sharer.addInitScript(() => {
    const devices = navigator.mediaDevices;
    if (!devices?.getDisplayMedia) return;
    const native = devices.getDisplayMedia.bind(devices);
    devices.getDisplayMedia = async (...args) => (window.__samlaShared = await native(...args));
  });
  await sharer.goto(`${server.base}/j/${meeting.id}?name=Deler&lang=nb`);
  await sharer.getByLabel("Kamera på").uncheck();
  await sharer.getByLabel("Mikrofon på").uncheck();
  await sharer.getByRole("button", { name: JOIN }).click();
  const share = sharer.getByRole("button", { name: "Del skjerm" });
  await share.waitFor({ timeout: 20_000 });

  const { page: viewer } = await openBrowser("screen-viewer");
  await viewer.goto(`${server.base}/j/${meeting.id}?name=Seer&lang=nb`);
  await viewer.getByRole("button", { name: JOIN }).click();
  await tileOf(viewer, "Deler").waitFor({ timeout: 20_000 });
  await tileOf(viewer, "Robot").waitFor({ timeout: 20_000 });
  await viewer.getByRole("button", { name: "Talervisning" }).click();
  await viewer.locator(".main-tile figure.tile").waitFor({ timeout: 20_000 });
  // Before anyone shares, the main tile is someone's camera (the Robot's: the only one on).
  await movingPicture(viewer.locator(".main-tile figure.tile"), "the viewer's main tile before sharing");
  await screenshot(sharer, "40-screen-sharer-before");
  await screenshot(viewer, "41-screen-viewer-before");
  assert.equal(await viewer.locator("figure.tile.screen").count(), 0, "a screen tile before anyone shares");

  // Before sharing, the robot gets at most the black frames of the sharer's disabled camera.
  const before = await waitFor("the Robot to list the sharer", () => statsFor(statsFile, "Deler"), { timeoutMs: 30_000 });
  t.diagnostic(`robot's stats for the sharer before sharing: ${JSON.stringify(before)}`);
  assert.equal(before.screen_frames_decoded, 0, "the Robot decoded a screen before anyone shared");

  // Share. The button turns into "Stopp deling".
  await share.click();
  await sharer.getByRole("button", { name: "Stopp deling" }).waitFor({ timeout: 10_000 });
  await screenshot(sharer, "42-screen-sharer-sharing");

  // The viewer: the sharer's screen is the main tile of the speaker view, with a moving picture
  // of the screen's size.
  const mainScreen = viewer.locator(".main-tile figure.tile.screen");
  await mainScreen.waitFor({ timeout: 30_000 });
  assert.equal((await mainScreen.locator("figcaption .name").textContent()).trim(), "Skjermen til Deler");
  const { first, later } = await movingPicture(mainScreen, "the viewer's main tile (the shared screen)");
  t.diagnostic(
    `viewer's main tile: ${first.width}x${first.height}, luma stddev ${first.stddev.toFixed(1)}, changed by ${pictureDifference(first, later).toFixed(1)}`,
  );
  assert.ok(first.width > 640, `the shared screen arrived at ${first.width}x${first.height}, no bigger than a camera`);
  const viewerStats = await inboundStats(viewer);
  const screenIn = Object.values(viewerStats.inbound).filter((x) => x.kind === "video" && (x.frameWidth ?? 0) > 640 && x.framesDecoded > 0);
  t.diagnostic(`viewer inbound: ${JSON.stringify(viewerStats.inbound)}`);
  assert.equal(screenIn.length, 1, "the viewer's WebRTC decodes no screen-sized video");
  await screenshot(viewer, "43-screen-viewer-main-tile");

  // The robot decodes the screen, at the screen's size.
  const during = await waitFor(
    "the Robot to decode the sharer's screen",
    async () => {
      const s = await statsFor(statsFile, "Deler");
      return s && s.screen_height >= 720 && s.screen_frames_decoded >= 30 ? s : null;
    },
    { timeoutMs: 45_000 },
  );
  t.diagnostic(`robot's stats for the sharer while sharing: ${JSON.stringify(during)}`);
  assert.equal(during.decode_errors, 0, "the Robot failed to decode some of the screen");

  // What the Robot decodes is what was on the sharer's screen: its latest decoded picture
  // (saved at most once a second) against the page's own capture at that moment, both
  // averaged to 64x36. The fake screen moves (a turning wedge, a clock, blinking corners),
  // so the closest of several pairs counts; the Robot's camera, a different picture, is
  // the yardstick for "different".
  const savedName = async () => (await readdir(framesDir)).find((f) => f.endsWith("-screen.ppm"));
  await waitFor("the Robot to save a decoded screen picture", savedName, { timeoutMs: 10_000 });
  const saved = path.join(framesDir, await savedName());
  let closest = Infinity;
  let decodedSize = null;
  for (let i = 0; i < 8; i++) {
    const [decoded, shown] = await Promise.all([ppmLuma(saved), sampleSharedScreen(sharer)]);
    if (decoded && shown) {
      decodedSize = `${decoded.width}x${decoded.height}`;
      closest = Math.min(closest, pictureDifference(decoded, shown));
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const robotCamera = await samplePicture(tileOf(viewer, "Robot"));
  const sharedNow = await sampleSharedScreen(sharer);
  const unlike = robotCamera && sharedNow ? pictureDifference(robotCamera, sharedNow) : NaN;
  t.diagnostic(
    `the Robot's decoded screen (${decodedSize}) against the sharer's capture: luma difference ${closest.toFixed(1)} / 255 at the closest; the Robot's camera against it: ${unlike.toFixed(1)}`,
  );
  assert.equal(decodedSize, "1280x720", "the Robot saved no screen picture of the screen's size");
  assert.ok(closest < 8, `the Robot's decoded screen differs from what was shared by ${closest.toFixed(1)} / 255`);
  assert.ok(unlike > 4 * closest, `a different picture (${unlike.toFixed(1)}) is not told apart from the shared one (${closest.toFixed(1)})`);

  // Stop sharing: the screen tile goes away and the main tile is a camera again.
  await sharer.getByRole("button", { name: "Stopp deling" }).click();
  await share.waitFor({ timeout: 10_000 });
  await waitFor("the screen tile to go away on the viewer", async () => (await viewer.locator("figure.tile.screen").count()) === 0, {
    timeoutMs: 20_000,
  });
  const mainAfter = viewer.locator(".main-tile figure.tile");
  await mainAfter.waitFor({ timeout: 10_000 });
  assert.equal((await mainAfter.locator("figcaption .name").textContent()).trim(), "Robot", "the main tile after sharing stopped");
  await movingPicture(mainAfter, "the viewer's main tile after sharing stopped");
  await screenshot(sharer, "44-screen-sharer-stopped");
  await screenshot(viewer, "45-screen-viewer-stopped");

  // What the robot was told: a screen track of the sharer's, and later none.
  await stop(robot);
  const events = await readJson(eventsFile, "the Robot");
  const sharerId = serverEvents(events, "participant_joined").map((e) => e.participant).find((p) => p?.name === "Deler")?.id
    ?? serverEvents(events, "joined").flatMap((e) => e.participants ?? []).find((p) => p.name === "Deler")?.id;
  const trackLists = serverEvents(events, "media_tracks").map((e) => e.tracks);
  t.diagnostic(`sharer id ${sharerId}; media_tracks seen: ${trackLists.length}`);
  const screenLists = trackLists.filter((ts) => ts.some((x) => x.kind === "screen"));
  assert.ok(screenLists.length > 0, "the Robot was never told of a screen track");
  assert.ok(screenLists.every((ts) => ts.filter((x) => x.kind === "screen").every((x) => sharerId === undefined || x.participant === sharerId)), "a screen track of someone else's");
  assert.ok(!trackLists.at(-1).some((x) => x.kind === "screen"), "the screen track was still listed after sharing stopped");
});
