// End-to-end test of the real desktop app, driven over WebDriver (tauri-driver + WebKitWebDriver)
// with plain HTTP. Run through tests/desktop/run, which provides the display (Xvfb), the
// binaries and tauri-driver.
//
// Scenario: a samla-server with a meeting; samla-cli "Per" in it with synthetic video and
// audio. The app (--fake-media) opens the join link, joins, shows Per's video (a tile
// canvas that is not blank and changes) and its own picture in a mirrored self-view tile (not
// blank, changing, gone while the camera is off and back when it is on), sends a chat message
// that Per receives, and receives one from a second participant. It shares the (Xvfb) screen:
// a samla-cli viewer decodes the screen track and saves the latest picture (`--save-frames`),
// which must match a screenshot of the screen taken at the same time (mean absolute difference
// of downscaled luma); then it stops sharing and the pictures stop. It shares one window
// (an xmessage) chosen in the share picker: a second viewer's picture must be that window's
// size and match a screenshot of the window. Restarted on its home screen, the app signs in to the
// server with an API token under Settings (the server must let the app's page call its API),
// keeps the token in the session's keyring and lists the user's upcoming meeting, still signed in
// after another restart. Then a second app, with the machine's own devices,
// hosts a meeting on its embedded server (on a machine without a camera it says so and shows our
// initials) and admits a guest (samla-cli) from the waiting room. The sound devices are PipeWire's
// virtual ones (tests/desktop/sound-session): before joining, the first app's speaker test must
// play its two notes and the second app's microphone meter must move with the tone spoken into
// the microphone; then a headset is plugged in (virtual speakers and microphone): the pickers
// must list it, and the second app picks its microphone (the devices open again) and its speakers
// (switched in place), whose meter and test tone must work; in the meeting the guest must hear
// the tone spoken into the headset's microphone, and the headset must play the guest's, until the
// meeting's audio menu switches both back to the built-in ones, which then do the same. A
// screenshot of the screen is kept after each step, and axe-core checks the main screens
// (pre-join, meeting, share picker, settings, home, waiting room) for WCAG 2.1 AA violations.
//
// Environment: SAMLA_BIN_DIR (samla, samla-server, samla-cli), SAMLA_APP (the app to drive, default
// SAMLA_BIN_DIR/samla; scripts/test gives the AppImage), OUT_DIR (screenshots, logs),
// WEBDRIVER_PORT (tauri-driver's port, default 4444).

import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, statSync, existsSync, createWriteStream } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import net from "node:net";
import { loudSpan, plugIn, readWav, recordSpeakers, SPEAKERS, speakInto, strongestPitch, writeTone } from "./sound.mjs";

const bin = process.env.SAMLA_BIN_DIR;
const out = process.env.OUT_DIR ?? "tests/desktop/out";
const driverUrl = `http://127.0.0.1:${process.env.WEBDRIVER_PORT ?? "4444"}`;
if (!bin) throw new Error("SAMLA_BIN_DIR is not set");
const app = process.env.SAMLA_APP ?? join(bin, "samla");
mkdirSync(out, { recursive: true });

const children = [];
function start(name, cmd, args, env = {}) {
  const log = createWriteStream(join(out, `${name}.log`));
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  children.push(child);
  return child;
}
function stopAll() {
  for (const c of children.reverse()) if (c.exitCode === null) c.kill("SIGTERM");
}
process.on("exit", stopAll);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what, fn, timeoutMs = 30_000, everyMs = 250) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

let step = 0;
async function screenshot(name) {
  await sleep(400); // let WebKit paint the last change
  step += 1;
  const file = join(out, `${String(step).padStart(2, "0")}-${name}.png`);
  execFileSync("import", ["-window", "root", file]);
  console.log(`  screenshot ${file}`);
}

// ---- WebDriver over HTTP --------------------------------------------------------------------

async function wd(method, path, body) {
  const res = await fetch(`${driverUrl}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(json.value)}`);
  return json.value;
}
let session = null;
const exec = (script, ...args) => wd("POST", `/session/${session}/execute/sync`, { script, args });

// Accessibility as axe-core finds it in the app's own webview (WebKitGTK): serious and critical
// violations of WCAG 2.1 A and AA fail the test, naming the elements.
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
async function accessible(screen) {
  await exec(`${axeSource}\nreturn typeof axe;`);
  const found = await wd("POST", `/session/${session}/execute/async`, {
    script: `const done = arguments[arguments.length - 1];
      axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }, resultTypes: ["violations"] })
        .then((r) => done(r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
          .flatMap((v) => v.nodes.map((n) => v.id + " (" + v.impact + "): " + n.target.join(" ") + " – " + n.failureSummary.replace(/\\s+/g, " ")))))
        .catch((e) => done(["axe could not run: " + e]));`,
    args: [],
  });
  if (found.length) throw new Error(`${screen}: ${found.length} accessibility violations:\n${found.join("\n")}`);
  console.log(`  ${screen}: no accessibility violations (axe, WCAG 2.1 AA)`);
}

/** Presses the pre-join's "Test speaker" while recording the machine's (virtual) speakers `sink`:
 * they must play its two notes, as the browser does, A5 (880 Hz) then E5 (659 Hz). */
async function testSpeaker(what, shot, sink = SPEAKERS) {
  const recorded = join(out, `${shot}.wav`);
  const recorder = recordSpeakers(start, recorded, sink);
  await sleep(300);
  await exec("document.querySelector('#test-speaker').click()");
  const said = await waitFor("the test tone played", () =>
    exec("const s = document.querySelector('.speaker-test').textContent; return s.includes('Did you hear') || s.includes('Could not') ? s : null;"),
  );
  if (said.includes("Could not")) throw new Error(`the app could not play the test tone on ${what}: ${said}`);
  recorder.kill("SIGINT");
  await sleep(300);
  const loud = loudSpan(readWav(recorded, 2), 500);
  const notes = [880, 659.25, 440, 1000];
  const third = Math.floor(loud.length / 3);
  const firstNote = strongestPitch(loud.subarray(0, third), notes).hz;
  const secondNote = strongestPitch(loud.subarray(2 * third), notes).hz;
  console.log(`  ${what} played ${firstNote} Hz then ${secondNote} Hz over ${(loud.length / 48).toFixed(0)} ms; the page says ${JSON.stringify(said.replace("Test speaker", "").trim())}`);
  if (firstNote !== 880 || secondNote !== 659.25) throw new Error(`${what} did not play the test tone`);
  await screenshot(shot);
}

// ---- the scenario ---------------------------------------------------------------------------

// Someone speaks into the machine's (virtual) microphone for the whole test. Its pitch is far
// from the guest's (500 Hz), which the app plays meanwhile: two pure tones in one band are what
// an echo canceller cannot tell apart from echo, where speech it can.
const SPOKEN_HZ = 1650;
// The headset plugged in before the hosted meeting, and what is said into its microphone.
const HEADSET = "samla-test-headset";
const HEADSET_MIC = "samla-test-headset-mic";
const HEADSET_HZ = 2250;
const spoken = join(out, "spoken.wav");
writeTone(spoken, SPOKEN_HZ, 600);
await speakInto(start, spoken);

const port = await freePort();
const server = `http://127.0.0.1:${port}`;
const data = join(out, "server-data");
start("server", join(bin, "samla-server"), ["serve", "--listen", `127.0.0.1:${port}`, "--data", data]);
await waitFor("the server", async () => (await fetch(`${server}/healthz`)).ok);
const token = execFileSync(join(bin, "samla-server"), ["token", "create", "--user", "kari@example.no", "--data", data])
  .toString()
  .trim();
const link = execFileSync(join(bin, "samla-cli"), ["meeting", "create", "--server", server, "--token", token, "--topic", "Desktop e2e"])
  .toString()
  .trim()
  .split("\n")
  .pop();
console.log(`meeting ${link}`);

const perEvents = join(out, "per-events.json");
const per = start("per", join(bin, "samla-cli"), [
  "join", link, "--name", "Per", "--video", "synthetic:640x360@30", "--audio", "synthetic", "--for", "60s",
  "--events-json", perEvents,
]);

session = (
  await wd("POST", "/session", {
    capabilities: {
      alwaysMatch: {
        browserName: "wry",
        "tauri:options": { application: app, args: [link, "--name", "Kari", "--fake-media"] },
      },
    },
  })
).sessionId;
console.log(`session ${session}`);

// A tile canvas (the first matching the selector given) with a picture that is not blank,
// read twice to see it move.
const readTile = `
  const canvas = document.querySelector(arguments[0]);
  if (!canvas || !canvas.width) return null;
  const c = document.createElement('canvas');
  c.width = 160; c.height = 90;
  const g = c.getContext('2d');
  g.drawImage(canvas, 0, 0, 160, 90);
  const px = g.getImageData(0, 0, 160, 90).data;
  let sum = 0, sq = 0, hash = 0;
  for (let i = 0; i < px.length; i += 4) {
    const l = (px[i] + px[i + 1] + px[i + 2]) / 3;
    sum += l; sq += l * l;
    hash = (hash * 31 + px[i] + 7 * px[i + 1] + 13 * px[i + 2]) >>> 0;
  }
  const n = px.length / 4, mean = sum / n;
  return { width: canvas.width, height: canvas.height, mean, std: Math.sqrt(sq / n - mean * mean), hash };`;
const PER = "figure.tile:not(.self) canvas.frames";
const SELF = "figure.tile.self canvas.self-view";
/** Waits for a not blank picture in `selector`, then checks that it changes. */
async function movingPicture(what, selector) {
  const first = await waitFor(what, async () => {
    const r = await exec(readTile, selector);
    return r && r.std > 10 ? r : null;
  }, 30_000);
  await sleep(700);
  const second = await exec(readTile, selector);
  console.log(`  ${what} ${first.width}x${first.height}: std ${first.std.toFixed(1)}, hash ${first.hash} then ${second.hash}`);
  if (!second || first.hash === second.hash) throw new Error(`${what} does not change`);
  return first;
}

// English, whatever the machine's language.
await waitFor("the page", () => exec("return document.readyState === 'complete' && !!document.querySelector('#app *')"));
await exec("localStorage.setItem('samla.lang', 'en'); location.reload();");
await waitFor("the join screen", () => exec("return !!document.querySelector('#join')"));
// The pre-join screen shows our camera (the synthetic picture) as it will be sent.
await movingPicture("the pre-join preview", ".preview canvas.self-view");
await screenshot("prejoin");
await accessible("prejoin");

console.log("step: test the speakers before joining");
await testSpeaker("the speakers", "speaker-tested");

console.log("step: join");
await exec("document.querySelector('#join').click()");
await waitFor("the meeting with Per", () =>
  exec("return [...document.querySelectorAll('figure.tile')].some(t => (t.getAttribute('aria-label') || '').includes('Per'))"),
);

console.log("step: Per's video");
await movingPicture("Per's video", PER);
await screenshot("per-video");
await accessible("per-video");

console.log("step: self view");
const self = await movingPicture("our own picture", SELF);
// At most 360 lines: the self view is sent small.
if (self.height > 360) throw new Error(`the self view is ${self.width}x${self.height}, larger than 360p`);
const selfLabel = await exec("return document.querySelector('figure.tile.self').getAttribute('aria-label')");
if (!selfLabel.startsWith("Kari (you)")) throw new Error(`the self-view tile is labelled ${JSON.stringify(selfLabel)}`);
const mirror = await exec("return getComputedStyle(document.querySelector(arguments[0])).transform", SELF);
if (!mirror.startsWith("matrix(-1")) throw new Error(`the self view is not mirrored (transform ${mirror})`);
await screenshot("self-view");

console.log("step: camera off and on");
const clickButton = (text) =>
  exec(`const b = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === arguments[0]); b.click();`, text);
await clickButton("Stop video");
await waitFor("our initials instead of our picture", () =>
  exec("const t = document.querySelector('figure.tile.self'); return !!t.querySelector('.avatar') && !t.querySelector('canvas');"),
);
await screenshot("camera-off");
await clickButton("Start video");
await movingPicture("our picture again", SELF);
await screenshot("camera-on-again");

console.log("step: chat");
await exec(`
  const b = [...document.querySelectorAll('button')].find(b => b.textContent.trim().startsWith('Chat'));
  b.click();`);
await waitFor("the chat box", () => exec("return !!document.querySelector('#chat-text')"));
const sent = "Hei fra appen";
await exec(
  `const input = document.querySelector('#chat-text');
   input.value = arguments[0];
   input.dispatchEvent(new Event('input', { bubbles: true }));`,
  sent,
);
await sleep(100);
await exec("document.querySelector('#chat-text').form.requestSubmit()");
await waitFor("our message in the chat", () => exec(`return document.querySelector('.chat-log').textContent.includes(${JSON.stringify(sent)})`));

const ola = "Hei fra Ola";
start("ola", join(bin, "samla-cli"), ["join", link, "--name", "Ola", "--chat", ola, "--for", "5s"]);
await waitFor("Ola's message in the app", () => exec(`return document.querySelector('.chat-log').textContent.includes(${JSON.stringify(ola)})`));
await screenshot("chat");

console.log("step: share the screen");
const framesDir = join(out, "viewer-frames");
const viewerStats = join(out, "viewer-stats.json");
start("viewer", join(bin, "samla-cli"), [
  "join", link, "--name", "Siri", "--save-frames", framesDir, "--stats-json", viewerStats, "--for", "60s",
]);
// A still screen to compare: Siri in, Ola (who stays 5 s) gone, so no tile comes or goes, and
// our camera off, so that only Per's tile moves between the screenshot and the picture.
await clickButton("Stop video");
await waitFor("Siri in and Ola gone", () =>
  exec(`const names = [...document.querySelectorAll('figure.tile')].map(t => t.getAttribute('aria-label') || '');
        return names.some(n => n.includes('Siri')) && !names.some(n => n.includes('Ola'));`),
  20_000,
);
// The picker offers the whole screen first, chosen.
await clickButton("Share screen");
await waitFor("the share picker", () => exec("return !!document.querySelector('[role=dialog] input[type=radio]')"));
const wholeChosen = await exec(`
  const r = document.querySelector('[role=dialog] input[type=radio]:checked');
  return r ? document.querySelector('label[for="' + r.id + '"]').textContent : null;`);
if (wholeChosen !== "The whole screen") throw new Error(`the picker starts on ${JSON.stringify(wholeChosen)}`);
await clickButton("Share");
await waitFor("the app sharing", () =>
  exec("return [...document.querySelectorAll('button')].some(b => b.textContent.trim() === 'Stop sharing')"),
  10_000,
);
const screenFrame = () => {
  if (!existsSync(framesDir)) return null;
  const f = readdirSync(framesDir).find((n) => n.endsWith("-screen.ppm"));
  return f ? join(framesDir, f) : null;
};
const savedScreen = await waitFor("the viewer's decoded screen", screenFrame, 30_000);
// A screenshot, then the first picture the viewer saves after it: the screen as it was then.
const shotAt = Date.now();
const shot = join(out, "shared-screen-now.png");
execFileSync("import", ["-window", "root", shot]);
await waitFor("a picture saved after the screenshot", () => statSync(savedScreen).mtimeMs > shotAt + 300, 30_000, 100);
const lumaOf = (file) => execFileSync("convert", [file, "-resize", "80x50!", "-colorspace", "Gray", "-depth", "8", "gray:-"]);
const [a, b] = [lumaOf(shot), lumaOf(savedScreen)];
let mad = 0;
for (let i = 0; i < a.length; i++) mad += Math.abs(a[i] - b[i]);
mad /= a.length;
const size = execFileSync("identify", ["-format", "%wx%h", savedScreen]).toString();
console.log(`  viewer decoded the screen at ${size}; mean absolute luma difference to the screenshot ${mad.toFixed(2)} / 255 (80x50)`);
execFileSync("convert", [savedScreen, join(out, "shared-screen-as-decoded.png")]);
if (a.length !== b.length || a.length === 0) throw new Error("could not compare the pictures");
if (mad > 16) throw new Error(`the decoded screen does not match the screen (difference ${mad.toFixed(2)})`);
await screenshot("sharing-screen");

console.log("step: stop sharing");
await exec(`
  const b = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Stop sharing');
  b.click();`);
await waitFor("the share button back", () =>
  exec("return [...document.querySelectorAll('button')].some(b => b.textContent.trim() === 'Share screen')"),
);
// The viewer may still be decoding what arrived before (a loaded debug build lags): wait for
// its saved picture to stay the same for 3 s, which it would not while pictures arrive.
let lastChange = { mtime: statSync(savedScreen).mtimeMs, at: Date.now() };
await waitFor("the screen pictures to stop", () => {
  const mtime = statSync(savedScreen).mtimeMs;
  if (mtime !== lastChange.mtime) lastChange = { mtime, at: Date.now() };
  return Date.now() - lastChange.at > 3000;
}, 30_000, 200);
const statsNow = JSON.parse(readFileSync(viewerStats, "utf8"));
const decoded = Object.values(statsNow).map((s) => s.screen_frames_decoded ?? 0);
console.log(`  sharing stopped; viewer decoded ${Math.max(0, ...decoded)} screen frames`);
await screenshot("sharing-stopped");

console.log("step: share one window");
// A window with known content, smaller than the screen, away from the app's share picker.
const windowTitle = "Samla e2e window";
const xmessage = start("xmessage", "xmessage", [
  "-title", windowTitle, "-geometry", "420x240+820+60", "-bg", "#1f5fbf", "-fg", "white",
  "Samla deler bare dette vinduet / Samla shares only this window",
]);
const windowId = await waitFor("the window on the screen", () => {
  try {
    const info = execFileSync("xwininfo", ["-name", windowTitle], { stdio: ["ignore", "pipe", "ignore"] }).toString();
    const id = /Window id: (0x[0-9a-f]+)/.exec(info)?.[1];
    const w = Number(/Width: (\d+)/.exec(info)?.[1]);
    const h = Number(/Height: (\d+)/.exec(info)?.[1]);
    return id && w && h ? { id, w, h } : null;
  } catch {
    return null;
  }
});
const windowFrames = join(out, "window-viewer-frames");
start("window-viewer", join(bin, "samla-cli"), [
  "join", link, "--name", "Liv", "--save-frames", windowFrames, "--for", "60s",
]);
await waitFor("Liv in the meeting", () =>
  exec("return [...document.querySelectorAll('figure.tile')].some(t => (t.getAttribute('aria-label') || '').includes('Liv'))"),
  20_000,
);
await clickButton("Share screen");
await waitFor("the share picker", () => exec("return !!document.querySelector('[role=dialog] input[type=radio]')"));
const picked = await exec(`
  const label = [...document.querySelectorAll('[role=dialog] label')].find(l => l.textContent === arguments[0]);
  if (!label) return false;
  document.getElementById(label.htmlFor).click();
  return true;`, windowTitle);
if (!picked) throw new Error(`the share picker does not list ${JSON.stringify(windowTitle)}`);
await screenshot("share-picker");
await accessible("share-picker");
await clickButton("Share");
await waitFor("the app sharing the window", () =>
  exec("return [...document.querySelectorAll('button')].some(b => b.textContent.trim() === 'Stop sharing')"),
  10_000,
);
const windowFrame = () => {
  if (!existsSync(windowFrames)) return null;
  const f = readdirSync(windowFrames).find((n) => n.endsWith("-screen.ppm"));
  return f ? join(windowFrames, f) : null;
};
const savedWindow = await waitFor("Liv's decoded window", windowFrame, 30_000);
const windowShotAt = Date.now();
const windowShot = join(out, "shared-window-now.png");
execFileSync("import", ["-window", windowId.id, windowShot]);
await waitFor("a window picture saved after the screenshot", () => statSync(savedWindow).mtimeMs > windowShotAt + 300, 30_000, 100);
const windowSize = execFileSync("identify", ["-format", "%wx%h", savedWindow]).toString();
execFileSync("convert", [savedWindow, join(out, "shared-window-as-decoded.png")]);
const [wa, wb] = [lumaOf(windowShot), lumaOf(savedWindow)];
let windowMad = 0;
for (let i = 0; i < wa.length; i++) windowMad += Math.abs(wa[i] - wb[i]);
windowMad /= wa.length;
console.log(`  Liv decoded the window at ${windowSize} (the window is ${windowId.w}x${windowId.h}); difference to its screenshot ${windowMad.toFixed(2)} / 255`);
// The encoder may round an odd size down to even.
const [dw, dh] = windowSize.split("x").map(Number);
if (Math.abs(dw - windowId.w) > 1 || Math.abs(dh - windowId.h) > 1) throw new Error(`Liv got a ${windowSize} picture, not the ${windowId.w}x${windowId.h} window`);
if (wa.length !== wb.length || wa.length === 0) throw new Error("could not compare the window pictures");
if (windowMad > 16) throw new Error(`the decoded window does not match the window (difference ${windowMad.toFixed(2)})`);
await screenshot("sharing-window");
await clickButton("Stop sharing");
await waitFor("the share button back", () =>
  exec("return [...document.querySelectorAll('button')].some(b => b.textContent.trim() === 'Share screen')"),
);
xmessage.kill("SIGTERM");

// Per writes its events when it leaves; stop it now instead of waiting out --for.
per.kill("SIGINT");
await waitFor("Per's events", () => existsSync(perEvents), 15_000);
const perSaw = readFileSync(perEvents, "utf8");
if (!perSaw.includes(sent)) throw new Error("Per did not receive the app's chat message");

/** A fresh app without a join link: it opens on the home screen. */
async function restartApp() {
  await wd("DELETE", `/session/${session}`);
  session = (
    await wd("POST", "/session", {
      capabilities: {
        alwaysMatch: { browserName: "wry", "tauri:options": { application: app, args: ["--name", "Kari"] } },
      },
    })
  ).sessionId;
  await waitFor("the home screen", () => exec("return !!document.querySelector('.home')"));
}
/** Types into an input as a person does (the page listens for input events). */
const type = (selector, text) =>
  exec(`const i = document.querySelector(arguments[0]); i.value = arguments[1]; i.dispatchEvent(new Event('input', { bubbles: true }));`, selector, text);
const upcomingTopics = () => exec("return [...document.querySelectorAll('.upcoming li strong')].map(s => s.textContent)");

console.log("step: sign in to the server, and see my upcoming meetings");
// The page comes from the app, not from the server: the server must let it call its API
// (CORS). The token is checked, then kept in the system keyring (the session's
// gnome-keyring), so that the next start is signed in.
const lectureStart = new Date(Date.now() + 2 * 3600_000);
const scheduled = await fetch(`${server}/api/v1/meetings`, {
  method: "POST",
  headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  body: JSON.stringify({ topic: "Forelesning INF1000", start_time: lectureStart.toISOString(), duration_minutes: 90 }),
});
if (scheduled.status !== 201) throw new Error(`could not schedule a meeting: ${scheduled.status}`);
await restartApp();
await type("#server-host", `127.0.0.1:${port}`);
await waitFor("the hint to sign in", () => exec("return !!document.querySelector('.sign-in-hint')"));
await clickButton("Settings");
await waitFor("the token field", () => exec("return !!document.querySelector('#api-token')"));
await type("#api-token", token);
await exec("document.querySelector('.settings form').requestSubmit()");
const signedIn = await waitFor("signed in", () =>
  exec("const s = document.querySelector('.settings [role=status]'); return s && s.textContent.startsWith('Signed in') ? s.textContent : null;"),
);
const kept = await exec("return document.querySelector('.settings [role=status] + p').textContent");
console.log(`  ${signedIn} ${kept}`);
if (kept !== "The token is kept in the system's keyring.") throw new Error(`the token was not kept: ${kept}`);
await screenshot("settings-signed-in");
await accessible("settings-signed-in");
await clickButton("Back");
await waitFor("the upcoming meeting", async () => (await upcomingTopics()).includes("Forelesning INF1000"), 15_000);
await screenshot("home-upcoming");
await accessible("home-upcoming");
await restartApp();
const topics = await waitFor("the upcoming meeting after a restart (the token from the keyring)", async () => {
  const t = await upcomingTopics();
  return t.length ? t : null;
}, 15_000);
console.log(`  after a restart, still signed in: ${topics.join(", ")}`);
if (topics.join() !== "Forelesning INF1000") throw new Error(`the upcoming meetings are ${JSON.stringify(topics)}`);
// No server: hosting on the app's own.
await type("#server-host", "");

console.log("step: host a meeting on the app's own server");
await waitFor("the button to host here", () => exec("return !!document.querySelector('.host-here button')"));
await screenshot("home");
await exec(`
  const b = [...document.querySelectorAll('.host-here button')].find(b => b.textContent.includes('Host a meeting'));
  b.click();`);
const hostedLink = await waitFor("the join link", () => exec("const i = document.querySelector('.desktop-host input'); return i ? i.value : null"));
console.log(`  hosted ${hostedLink}`);
// Browsers join at the same link: the embedded server serves the web UI there.
const page = await fetch(hostedLink);
if (!page.ok || !(await page.text()).includes("samla-meeting")) throw new Error("the embedded server does not serve the join page");
await waitFor("the join screen", () => exec("return !!document.querySelector('#join')"));

console.log("step: check the microphone before joining");
// The meter reads the (virtual) microphone, into which a tone is being spoken.
const meter = await waitFor("the microphone meter moving", () =>
  exec("const m = document.querySelector('[role=meter]'); const v = m ? Number(m.getAttribute('aria-valuenow')) : 0; return v > 20 ? v : null;"),
);
console.log(`  the microphone meter reads ${meter} %`);

console.log("step: plug in a headset and pick it before joining");
// A headset (virtual speakers and a microphone of its own, into which another tone is spoken)
// is plugged in while the pre-join shows: the pickers must list it by its name within a few
// seconds. Picking its microphone opens the devices again; picking its speakers switches in
// place. The meeting below must hear the headset's microphone, and play on its speakers.
plugIn(HEADSET, "Samla test headset", "speakers");
plugIn(HEADSET_MIC, "Samla test headset microphone", "microphone");
const headsetSpoken = join(out, "headset-spoken.wav");
writeTone(headsetSpoken, HEADSET_HZ, 600);
await speakInto(start, headsetSpoken, HEADSET_MIC);
await exec("document.querySelector('details.devices').open = true");
const pick = (select, label) =>
  waitFor(`${label} in the ${select} picker`, () =>
    exec(`const s = document.querySelector('${select}');
      const o = s && [...s.options].find((o) => o.textContent === '${label}');
      if (!o) return null;
      s.value = o.value; s.dispatchEvent(new Event('change', { bubbles: true }));
      return o.textContent + ' (of ' + [...s.options].map((o) => o.textContent).join(', ') + ')';`),
  );
console.log(`  picked the microphone ${await pick("#mic-device", "Samla test headset microphone")}`);
await sleep(500);
const meterAgain = await waitFor("the meter moving on the microphone picked", () =>
  exec("const m = document.querySelector('[role=meter]'); const v = m ? Number(m.getAttribute('aria-valuenow')) : 0; return v > 20 ? v : null;"),
);
console.log(`  the microphone meter reads ${meterAgain} % on it`);
console.log(`  picked the speakers ${await pick("#speaker-device", "Samla test headset")}`);
await testSpeaker("the headset", "headset-picked", HEADSET);
if (await exec("return !!document.querySelector('.devices [role=alert]')")) throw new Error("the app refused the headset");

await exec("document.querySelector('#join').click()");
await waitFor("the hosted meeting", () => exec("return !!document.querySelector('figure.tile')"));
// This app has no --fake-media: it opens the machine's camera, or says there is none.
const cameras = readdirSync("/dev").filter((n) => n.startsWith("video"));
if (cameras.length === 0) {
  const said = await waitFor("the missing camera explained", () =>
    exec("const s = document.querySelector('.bar .status').textContent; return s.includes('camera') ? s : null;"),
  );
  if (said !== "No camera was found. You are in without video.") throw new Error(`the app says ${JSON.stringify(said)} about the camera`);
  const selfTile = await exec("const t = document.querySelector('figure.tile.self'); return { avatar: !!t.querySelector('.avatar'), canvas: !!t.querySelector('canvas') };");
  if (!selfTile.avatar || selfTile.canvas) throw new Error("without a camera our tile should show our initials");
  const videoButton = await exec("return [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Start video').disabled");
  if (!videoButton) throw new Error("the camera button should be off without a camera");
  console.log(`  no camera on this machine: the app says so (${JSON.stringify(said)})`);
} else {
  console.log(`  this machine has ${cameras.join(", ")}: not checking the missing-camera message`);
}
await screenshot("hosting");

console.log("step: admit a guest from the waiting room");
const guestEvents = join(out, "guest-events.json");
const guestHeard = join(out, "guest-heard.wav");
const speakersPlayed = join(out, "headset-played.wav");
const speakers = recordSpeakers(start, speakersPlayed, HEADSET);
// The guest sends its synthetic tone (its pitch says who it is) and keeps what it hears.
start("guest", join(bin, "samla-cli"), [
  "join", hostedLink, "--name", "Gjest", "--for", "20s", "--events-json", guestEvents,
  "--audio", "synthetic", "--audio-out", `wav:${guestHeard}`,
]);
await exec(`
  const b = [...document.querySelectorAll('button')].find(b => b.textContent.trim().startsWith('Participants'));
  b.click();`);
await waitFor("the guest in the waiting room", () => exec("return !!document.querySelector('.panel.participants button[aria-label=\"Admit Gjest\"]')"));
await screenshot("waiting-room");
await accessible("waiting-room");
await exec("document.querySelector('.panel.participants button[aria-label=\"Admit Gjest\"]').click()");
await waitFor("the guest in the meeting", () =>
  exec("return [...document.querySelectorAll('figure.tile')].some(t => (t.getAttribute('aria-label') || '').includes('Gjest'))"),
);
await screenshot("guest-admitted");

console.log("step: back to the built-in microphone and speakers, in the meeting");
// A few seconds on the headset, then the meeting's audio menu switches both back, in place.
await sleep(5000);
speakers.kill("SIGINT");
const builtInPlayed = join(out, "speakers-played.wav");
const builtIn = recordSpeakers(start, builtInPlayed);
await exec("document.querySelector('details.devices-menu').open = true");
const use = (select, label) =>
  exec(`const s = document.querySelector('${select}');
    const o = [...s.options].find((o) => o.textContent === '${label}');
    s.value = o.value; s.dispatchEvent(new Event('change', { bubbles: true }));
    return [...s.options].map((o) => o.textContent).join(', ');`);
console.log(`  microphones in the meeting: ${await use("#meeting-mic", "Samla test microphone")}`);
console.log(`  speakers in the meeting: ${await use("#meeting-speaker", "Samla test speakers")}`);
await sleep(500);
if (await exec("return !!document.querySelector('.devices-menu [role=alert]')")) throw new Error("the app refused the built-in devices");
await screenshot("devices-menu-switched");
await waitFor("the guest's events", () => existsSync(guestEvents), 30_000);
builtIn.kill("SIGINT");
const guestSaw = JSON.parse(readFileSync(guestEvents, "utf8"));
const guestJoined = guestSaw.find((e) => e.event.type === "joined");
if (!guestJoined) throw new Error("the guest was not admitted");

console.log("step: what was heard and played, before and after switching");
// This app uses the machine's microphone and speakers: here PipeWire's virtual ones
// (tests/desktop/sound-session), with one tone spoken into the default microphone and another
// into the headset's. The guest must hear the headset's first and the built-in one's at the
// end; the headset, then the built-in speakers, must play the guest.
await sleep(500);
const pitches = [SPOKEN_HZ, HEADSET_HZ];
for (let n = 0; n < 32; n++) pitches.push(300 + 100 * n);
const guestLoud = loudSpan(readWav(guestHeard, 1), 500);
const twoSeconds = 2 * 48000;
const heardFirst = strongestPitch(guestLoud.subarray(0, twoSeconds), pitches);
const heardLast = strongestPitch(guestLoud.subarray(guestLoud.length - twoSeconds), pitches);
console.log(`  the guest heard ${heardFirst.hz} Hz at RMS ${heardFirst.rms.toFixed(0)} first, ${heardLast.hz} Hz at RMS ${heardLast.rms.toFixed(0)} at the end (headset ${HEADSET_HZ} Hz, built-in ${SPOKEN_HZ} Hz)`);
if (heardFirst.hz !== HEADSET_HZ || heardFirst.rms < 100) throw new Error("the guest did not hear what was said into the headset's microphone");
if (heardLast.hz !== SPOKEN_HZ || heardLast.rms < 100) throw new Error("the guest did not hear the built-in microphone after switching to it");
const guestPitch = 300 + 100 * (guestJoined.event.you % 32);
for (const [what, wav] of [["the headset", speakersPlayed], ["the built-in speakers", builtInPlayed]]) {
  const played = strongestPitch(loudSpan(readWav(wav, 2), 500), pitches);
  console.log(`  ${what} played ${played.hz} Hz at RMS ${played.rms.toFixed(0)} (the guest's tone is ${guestPitch} Hz)`);
  if (played.hz !== guestPitch || played.rms < 100) throw new Error(`${what} did not play the guest`);
}

console.log("step: leave");
await wd("DELETE", `/session/${session}`);
session = null;
console.log("desktop e2e: passed");
stopAll();
process.exit(0);
