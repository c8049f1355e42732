// Shared by the browser tests: real samla-server and samla-cli processes, Debian's headless
// Chromium, and cleanup of all of them however the test ends.
//
// The pages are the real web UI (ui/, built into samla-server from ui/dist): build the UI
// before the server (`cd ui && npm ci && npm run build`, then `cargo build --bins`).
//
// Environment: CARGO_TARGET_DIR (where the debug binaries are), CHROMIUM (default
// /usr/bin/chromium). Screenshots go to test-output/browser/, child and page logs to
// test-output/browser-logs/, at the repository root.

import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { promisify } from "node:util";
import { createServer } from "node:net";
import { mkdtemp, mkdir, readFile, rm } from "node:fs/promises";
import { createWriteStream, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const execFileP = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
export const outDir = path.join(repo, "test-output", "browser");
export const logDir = path.join(repo, "test-output", "browser-logs");
const target = process.env.CARGO_TARGET_DIR || path.join(repo, "target");
export const SERVER_BIN = path.join(target, "debug", "samla-server");
export const CLI_BIN = path.join(target, "debug", "samla-cli");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Three fake cameras (and microphones), so the device pickers have something to switch to.
  "--use-fake-device-for-media-stream=device-count=3",
  "--use-fake-ui-for-media-stream",
];

// Texts the page shows, in either language it speaks.
export const JOIN = /^(Join|Bli med)$/;
export const PASSCODE_REQUIRED = /This meeting has a passcode\.|Møtet har passord\./;
export const WRONG_PASSCODE = /Wrong passcode\.|Feil passord\./;
export const WAITING = /waiting for the host to let you in|venter på at verten slipper deg inn/i;
export const LEFT = /You left the meeting\.|Du har forlatt møtet\./;

/** Saves a screenshot of the page as test-output/browser/NAME.png. */
export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(outDir, `${name}.png`) });
}

/** The video tile captioned `name` (a remote participant: the caption is the name alone). */
export function tileOf(page, name) {
  const exact = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  return page.locator("figure.tile", { has: page.locator("figcaption .name", { hasText: exact }) });
}

/**
 * Samples the picture a tile's <video> shows right now (drawn into a canvas): its size, how
 * much its pixels vary (a blank or one-colour picture varies by ~0) and a coarse fingerprint
 * to tell whether it moves.
 */
export function samplePicture(tile) {
  return tile.locator("video").evaluate((v) => {
    if (!v.videoWidth || v.readyState < 2) return null;
    const w = 64;
    const h = 36;
    const c = document.createElement("canvas");
    c.width = w;
    c.height = h;
    const g = c.getContext("2d", { willReadFrequently: true });
    g.drawImage(v, 0, 0, w, h);
    const px = g.getImageData(0, 0, w, h).data;
    let sum = 0;
    let sq = 0;
    const luma = [];
    for (let i = 0; i < px.length; i += 4) {
      const y = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
      luma.push(y);
      sum += y;
      sq += y * y;
    }
    const n = luma.length;
    const mean = sum / n;
    return { width: v.videoWidth, height: v.videoHeight, mean, stddev: Math.sqrt(Math.max(0, sq / n - mean * mean)), luma };
  });
}

/** Mean absolute luma difference between two samples. */
export function pictureDifference(a, b) {
  let d = 0;
  for (let i = 0; i < a.luma.length; i++) d += Math.abs(a.luma[i] - b.luma[i]);
  return d / a.luma.length;
}

/** Reads a JSON file a samla-cli wrote on exit. */
export async function readJson(file, who) {
  const raw = await readFile(file, "utf8").catch(() => null);
  assert.ok(raw, `${who} wrote no ${file}; see test-output/browser-logs/`);
  return JSON.parse(raw);
}

/** The server messages of a given type in a samla-cli --events-json file. */
export function serverEvents(events, type) {
  return events.map((e) => e.event).filter((e) => e?.event === "server" && e.type === type);
}

// ---- child processes ----------------------------------------------------------------------

const children = new Set();
const tempDirs = [];

function killAll(signal = "SIGKILL") {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill(signal);
      } catch {}
    }
  }
}
process.on("exit", () => killAll());
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** Starts a child with its output in test-output/browser-logs/NAME.log. */
export function start(name, bin, args) {
  const log = createWriteStream(path.join(logDir, `${name}.log`));
  log.write(`$ ${bin} ${args.join(" ")}\n`);
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: process.env.RUST_LOG || "info" } });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  child.exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  child.logName = `${name}.log`;
  children.add(child);
  child.exited.then(() => children.delete(child));
  return child;
}

/** Waits until a child's log (its standard output and error) matches `pattern`. */
export function waitForLog(child, pattern, opts = { timeoutMs: 20_000 }) {
  return waitFor(
    `${child.logName} to match ${pattern}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${child.logName}: exited (${child.exitCode})`);
      return pattern.test(await readFile(path.join(logDir, child.logName), "utf8"));
    },
    opts,
  );
}

export async function stop(child, { signal = "SIGINT", timeoutMs = 15_000 } = {}) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exited;
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const result = await child.exited;
  clearTimeout(timer);
  return result;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor(what, fn, { timeoutMs = 20_000, intervalMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ---- server ------------------------------------------------------------------------------------

export let server; // { base, data, token, proc }

export async function startServer() {
  for (const bin of [SERVER_BIN, CLI_BIN]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`cargo build --bins\` with CARGO_TARGET_DIR=${target}`);
  }
  const data = await mkdtemp(path.join(tmpdir(), "samla-browser-data-"));
  tempDirs.push(data);
  const { stdout } = await execFileP(SERVER_BIN, ["token", "create", "--data", data, "--user", "vert@example.test", "--name", "Vert"]);
  const token = stdout.trim().split("\n").pop().trim();
  assert.ok(token, "samla-server token create printed no token");
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const proc = start("samla-server", SERVER_BIN, ["serve", "--listen", `127.0.0.1:${port}`, "--data", data, "--public-url", base]);
  await waitFor("samla-server /healthz", async () => {
    if (proc.exitCode !== null) throw new Error(`samla-server exited (${proc.exitCode}); see test-output/browser-logs/${proc.logName}`);
    const r = await fetch(`${base}/healthz`);
    return r.ok;
  });
  server = { base, data, token, proc };
  return server;
}

export async function createMeeting(body) {
  const r = await fetch(`${server.base}/api/v1/meetings`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.equal(r.status, 201, `POST /api/v1/meetings: ${r.status} ${text}`);
  return JSON.parse(text);
}

// ---- browser -----------------------------------------------------------------------------------

const contexts = [];

export async function openBrowser(name) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const userDataDir = await mkdtemp(path.join(tmpdir(), "samla-chromium-"));
  tempDirs.push(userDataDir);
  // launchPersistentContext passes --user-data-dir itself (launch() refuses it in args).
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 720 },
    locale: "en-US",
    permissions: ["camera", "microphone"],
  });
  contexts.push(context);
  // The UI keeps its RTCPeerConnection to itself; the tests read its getStats() through this
  // list of every connection the page made (installed before any page script runs).
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    if (!Native || window.__samlaPcs) return;
    window.__samlaPcs = [];
    window.RTCPeerConnection = class extends Native {
      constructor(...args) {
        super(...args);
        window.__samlaPcs.push(this);
      }
    };
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const log = createWriteStream(path.join(logDir, `chromium-${name}.log`));
  page.on("console", (m) => log.write(`[${m.type()}] ${m.text()}\n`));
  page.on("pageerror", (e) => log.write(`[pageerror] ${e.stack || e}\n`));
  return { context, page };
}

/** Inbound RTP stats, by mid, as the page's RTCPeerConnection reports them. */
export function inboundStats(page) {
  return page.evaluate(async () => {
    const pc = (window.__samlaPcs ?? []).filter((p) => p.connectionState !== "closed").at(-1);
    if (!pc) return { inbound: {}, outbound: [], codecs: {} };
    const report = await pc.getStats();
    const inbound = {};
    const outbound = [];
    const codecs = {};
    report.forEach((s) => {
      if (s.type === "codec") codecs[s.id] = s.mimeType;
    });
    report.forEach((s) => {
      if (s.type === "inbound-rtp") {
        inbound[s.mid] = {
          kind: s.kind,
          packetsReceived: s.packetsReceived ?? 0,
          framesDecoded: s.framesDecoded ?? 0,
          totalAudioEnergy: s.totalAudioEnergy ?? 0,
          totalSamplesReceived: s.totalSamplesReceived ?? 0,
          frameWidth: s.frameWidth,
          frameHeight: s.frameHeight,
          codec: codecs[s.codecId],
        };
      } else if (s.type === "outbound-rtp") {
        outbound.push({
          kind: s.kind,
          mid: s.mid,
          rid: s.rid,
          packetsSent: s.packetsSent ?? 0,
          framesEncoded: s.framesEncoded,
          frameWidth: s.frameWidth,
          frameHeight: s.frameHeight,
          codec: codecs[s.codecId],
          active: s.active,
        });
      }
    });
    return { inbound, outbound, codecs };
  });
}

/** Sums every number under `key` anywhere in a JSON value. */
export function sumKey(value, key) {
  if (Array.isArray(value)) return value.reduce((n, v) => n + sumKey(v, key), 0);
  if (value && typeof value === "object") {
    let n = 0;
    for (const [k, v] of Object.entries(value)) n += k === key && typeof v === "number" ? v : sumKey(v, key);
    return n;
  }
  return 0;
}

export async function setUp() {
  await mkdir(logDir, { recursive: true });
  await mkdir(outDir, { recursive: true });
  return startServer();
}

export async function tearDown() {
  for (const c of contexts) await c.close().catch(() => {});
  for (const child of [...children]) await stop(child, { signal: "SIGTERM", timeoutMs: 5000 });
  for (const d of tempDirs) await rm(d, { recursive: true, force: true }).catch(() => {});
}
