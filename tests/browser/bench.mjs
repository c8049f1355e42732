// Chromium clients through the SFU, for BENCHMARKS.md ("Media through the SFU"):
//
//   node bench.mjs N [--seconds S] [--rejoins R] [--no-build]        e.g. node bench.mjs 4
//
// Builds release samla-server and samla-cli (`cargo build --release -p samla-server -p
// samla-cli`, CARGO_TARGET_DIR default /var/tmp/samla-target; the server embeds ui/dist, so
// build the UI first: `cd ui && npm run build`), starts the server on SQLite in a temp folder,
// creates a meeting and opens N pages of Debian's headless Chromium (one browser, a separate
// context per page, fake camera at 30 fps and microphone) on its join link. The pages join one after
// another with the camera and microphone on (the real web UI: 640x360 camera in three
// simulcast layers, H.264 + Opus), in gallery view.
//
// Prints:
// - join to first remote frame: for each page that joins a meeting where others are already
//   sending (pages 2..N), from its click on "Join" to the first remote video frame decoded
//   (getStats: an inbound-rtp video with framesDecoded > 0, polled every 10 ms in the page);
//   after the steady window, R more samples (default 4): pages 2..N in turn leave, load the
//   join link afresh and join again;
// - over a steady window of S seconds (default 20) after everyone decodes everyone: decoded
//   fps of every remote video stream on every page (and the picture height the SFU forwards),
//   inbound jitter (video and audio) and round-trip time (the selected ICE candidate pair's
//   currentRoundTripTime) from getStats;
// - the server's CPU (utime+stime from /proc/PID/stat) over the window divided by the video
//   frames decoded in all pages over the same window: CPU per forwarded video frame.
// - Chromium's own CPU over the window (every process below this node process) and the load
//   average, because on a small machine Chromium, not the SFU, is what runs out.

import { spawn, execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir, loadavg, cpus } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { freePort, waitFor } from "./harness.mjs";

const execFileP = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");

const args = process.argv.slice(2);
let n = 2;
let seconds = 20;
let rejoins = 4;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--seconds") seconds = Number(args[++i]);
  else if (args[i] === "--rejoins") rejoins = Number(args[++i]);
  else if (/^\d+$/.test(args[i])) n = Number(args[i]);
}
const build = !args.includes("--no-build");
if (!(n >= 2) || !(seconds > 0) || !(rejoins >= 0)) {
  console.error("usage: node bench.mjs N [--seconds S] [--rejoins R] [--no-build]   (N >= 2)");
  process.exit(2);
}
const target = process.env.CARGO_TARGET_DIR || "/var/tmp/samla-target";
const SERVER = path.join(target, "release", "samla-server");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const HZ = 100; // CLK_TCK on Linux
const cleanups = [];

function log(...a) {
  console.log(...a);
}

async function cpuTicks(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command (which may hold spaces) start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
}

/** Every process whose parent chain leads to `root` (Chromium's browser, GPU, renderers...). */
async function descendants(root) {
  const parent = new Map();
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const stat = await readFile(`/proc/${d}/stat`, "utf8").catch(() => null);
    if (stat) parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
  }
  const out = [];
  for (const pid of parent.keys()) {
    for (let p = parent.get(pid), hops = 0; p && hops < 20; p = parent.get(p), hops++) {
      if (p === root) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

async function chromiumTicks(serverPid) {
  let total = 0;
  for (const pid of await descendants(process.pid)) {
    if (pid === serverPid) continue;
    total += await cpuTicks(pid).catch(() => 0);
  }
  return total;
}

const pct = (values, q) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const fmt = (v, d = 1) => (v === undefined || v === null || Number.isNaN(v) ? "n/a" : v.toFixed(d));

// Runs in every page before its scripts: keep the RTCPeerConnections, and from the click on
// "Join" poll getStats every 10 ms until a remote video frame is decoded.
function instrument() {
  const Native = window.RTCPeerConnection;
  window.__samlaPcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...a) {
      super(...a);
      window.__samlaPcs.push(this);
    }
  };
  window.__bench = { clickAt: null, firstFrameAt: null };
  document.addEventListener(
    "click",
    (e) => {
      if (window.__bench.clickAt !== null || !(e.target instanceof Element) || !e.target.closest("#join")) return;
      window.__bench.clickAt = performance.now();
      const poll = async () => {
        for (const pc of window.__samlaPcs) {
          if (pc.connectionState === "closed") continue;
          const report = await pc.getStats();
          for (const s of report.values()) {
            if (s.type === "inbound-rtp" && s.kind === "video" && (s.framesDecoded ?? 0) > 0) {
              window.__bench.firstFrameAt = performance.now();
              return;
            }
          }
        }
        setTimeout(poll, 10);
      };
      setTimeout(poll, 10);
    },
    true,
  );
}

/** The figures the benchmark reads from one page's getStats. */
function pageStats() {
  return (async () => {
    const pc = window.__samlaPcs.filter((p) => p.connectionState !== "closed").at(-1);
    if (!pc) return { video: {}, audio: {}, sent: {}, rttMs: null, at: performance.now() };
    const report = await pc.getStats();
    const video = {};
    const audio = {};
    const sent = {};
    let rttMs = null;
    let pairId = null;
    for (const s of report.values()) if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    for (const s of report.values()) {
      if (s.type === "inbound-rtp" && s.kind === "video") {
        video[s.mid] = { frames: s.framesDecoded ?? 0, height: s.frameHeight ?? 0, jitterMs: (s.jitter ?? 0) * 1000, lost: s.packetsLost ?? 0 };
      } else if (s.type === "outbound-rtp" && s.kind === "video") {
        sent[`${s.mid}/${s.rid ?? "-"}`] = { frames: s.framesEncoded ?? 0, height: s.frameHeight ?? 0 };
      } else if (s.type === "inbound-rtp" && s.kind === "audio") {
        audio[s.mid] = { jitterMs: (s.jitter ?? 0) * 1000, energy: s.totalAudioEnergy ?? 0, lost: s.packetsLost ?? 0 };
      } else if (s.type === "candidate-pair" && (s.id === pairId || (!pairId && s.nominated && s.state === "succeeded"))) {
        if (s.currentRoundTripTime !== undefined) rttMs = s.currentRoundTripTime * 1000;
      }
    }
    return { video, audio, sent, rttMs, at: performance.now() };
  })();
}

async function main() {
  if (build) {
    log(`$ cargo build --release -p samla-server -p samla-cli   (CARGO_TARGET_DIR=${target})`);
    await execFileP("cargo", ["build", "--release", "-q", "-p", "samla-server", "-p", "samla-cli"], {
      cwd: repo,
      env: { ...process.env, CARGO_TARGET_DIR: target },
      maxBuffer: 64 << 20,
    });
  }
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing`);

  const data = await mkdtemp(path.join(tmpdir(), "samla-bench-"));
  cleanups.push(() => rm(data, { recursive: true, force: true }));
  const { stdout } = await execFileP(SERVER, ["token", "create", "--data", data, "--user", "bench@example.no"]);
  const token = stdout.trim().split("\n").pop().trim();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(SERVER, ["serve", "--listen", `127.0.0.1:${port}`, "--data", data, "--public-url", base], {
    stdio: "ignore",
    env: { ...process.env, SAMLA_LOG: "warn", RUST_LOG: "warn" },
  });
  cleanups.unshift(() => server.exitCode === null && server.kill("SIGKILL"));
  await waitFor("samla-server /healthz", async () => (await fetch(`${base}/healthz`)).ok);
  const res = await fetch(`${base}/api/v1/meetings`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ topic: "Chromium bench" }),
  });
  if (res.status !== 201) throw new Error(`POST /api/v1/meetings: ${res.status} ${await res.text()}`);
  const meeting = await res.json();
  // The server's CPU with the meeting empty, for comparison with the window below.
  const idle0 = await cpuTicks(server.pid);
  await new Promise((r) => setTimeout(r, 5_000));
  const idleCpu = (await cpuTicks(server.pid)) - idle0;

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--use-fake-device-for-media-stream=fps=30", "--use-fake-ui-for-media-stream",
      "--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
    ],
  });
  cleanups.unshift(() => browser.close().catch(() => {}));
  log(`chromium ${browser.version()}, ${n} pages, ${cpus().length} cores, server ${base}, meeting ${meeting.id}`);

  const urlOf = (i) => `${base}/j/${meeting.id}?name=${encodeURIComponent(`Bench ${i + 1}`)}&lang=en`;
  const pages = [];
  for (let i = 0; i < n; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, locale: "en-US", permissions: ["camera", "microphone"] });
    await context.addInitScript(instrument);
    const page = await context.newPage();
    await page.goto(urlOf(i));
    await page.getByRole("button", { name: "Join" }).waitFor();
    pages.push(page);
  }

  // Join one after another: page k joins once page k-1 has joined (and, from page 2 on, has
  // decoded a remote frame), so every page from 2 on joins a meeting where others are sending.
  const firstFrame = [];
  for (const [i, page] of pages.entries()) {
    await page.getByRole("button", { name: "Join" }).click();
    await page.getByRole("button", { name: "Leave meeting" }).waitFor({ timeout: 30_000 });
    if (i === 0) {
      await waitFor("page 1 to connect its media", () => page.evaluate(() => window.__samlaPcs.some((p) => p.connectionState === "connected")), {
        timeoutMs: 30_000,
      });
      continue;
    }
    const b = await waitFor(`page ${i + 1}'s first remote video frame`, () => page.evaluate(() => (window.__bench.firstFrameAt ? window.__bench : null)), {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    firstFrame.push(b.firstFrameAt - b.clickAt);
    log(`page ${i + 1}: join click to first remote video frame decoded: ${fmt(b.firstFrameAt - b.clickAt, 0)} ms`);
  }

  // Everyone decodes everyone, then a warm-up, then the steady window.
  await waitFor(
    "every page to decode every other page's video",
    async () => {
      for (const page of pages) {
        const s = await page.evaluate(pageStats);
        if (Object.values(s.video).filter((v) => v.frames > 0).length < n - 1) return false;
      }
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  await new Promise((r) => setTimeout(r, 5_000));

  const snap = () => Promise.all(pages.map((p) => p.evaluate(pageStats)));
  const forwarded = async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return Number(/^samla_media_frames_forwarded_total (\d+)/m.exec(text)?.[1] ?? NaN);
  };
  const before = {
    stats: await snap(), server: await cpuTicks(server.pid), chromium: await chromiumTicks(server.pid), forwarded: await forwarded(), wall: Date.now(),
  };
  const rtts = [];
  const sampler = setInterval(() => {
    snap()
      .then((all) => all.forEach((s) => s.rttMs !== null && rtts.push(s.rttMs)))
      .catch(() => {});
  }, 2_000);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(sampler);
  const after = {
    stats: await snap(), server: await cpuTicks(server.pid), chromium: await chromiumTicks(server.pid), forwarded: await forwarded(), wall: Date.now(),
  };
  const load = loadavg();
  const wall = (after.wall - before.wall) / 1000;

  for (let r = 0; r < rejoins; r++) {
    const i = 1 + (r % (n - 1));
    const page = pages[i];
    await page.getByRole("button", { name: "Leave meeting" }).click();
    await page.getByText("You left the meeting.").waitFor({ timeout: 20_000 });
    await page.goto(urlOf(i));
    await page.getByRole("button", { name: "Join" }).click();
    const b = await waitFor(`page ${i + 1}'s first remote video frame after rejoining`, () => page.evaluate(() => (window.__bench.firstFrameAt ? window.__bench : null)), {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    firstFrame.push(b.firstFrameAt - b.clickAt);
    log(`page ${i + 1} (rejoining): join click to first remote video frame decoded: ${fmt(b.firstFrameAt - b.clickAt, 0)} ms`);
    // Let everyone pick the newcomer up again before the next one goes.
    await new Promise((res) => setTimeout(res, 2_000));
  }

  const fps = [];
  const heights = {};
  const videoJitter = [];
  const audioJitter = [];
  let frames = 0;
  let lost = 0;
  let published = 0;
  const layers = {};
  for (let i = 0; i < n; i++) {
    const a = before.stats[i];
    const b = after.stats[i];
    const dt = (b.at - a.at) / 1000;
    for (const [mid, v] of Object.entries(b.video)) {
      const d = v.frames - (a.video[mid]?.frames ?? 0);
      if (v.frames === 0) continue; // a transceiver nobody sends on
      frames += d;
      fps.push(d / dt);
      heights[v.height] = (heights[v.height] ?? 0) + 1;
      videoJitter.push(v.jitterMs);
      lost += v.lost - (a.video[mid]?.lost ?? 0);
    }
    for (const [mid, v] of Object.entries(b.audio)) {
      if (v.energy === 0) continue;
      audioJitter.push(v.jitterMs);
      lost += v.lost - (a.audio[mid]?.lost ?? 0);
    }
    if (b.rttMs !== null) rtts.push(b.rttMs);
    for (const [key, v] of Object.entries(b.sent)) {
      const d = v.frames - (a.sent[key]?.frames ?? 0);
      published += d;
      const rid = key.split("/")[1];
      if (d > 0) layers[rid] = { fps: (layers[rid]?.fps ?? 0) + d / dt / n, height: Math.max(layers[rid]?.height ?? 0, v.height) };
    }
  }
  const serverCpu = (after.server - before.server) / HZ;
  const chromiumCpu = (after.chromium - before.chromium) / HZ;
  const mean = (v) => v.reduce((x, y) => x + y, 0) / v.length;

  log("");
  log(`join click to first remote video frame decoded (pages 2..${n} joining, then ${rejoins} rejoins; ${firstFrame.length} samples): p50 ${fmt(pct(firstFrame, 0.5), 0)} ms, max ${fmt(Math.max(...firstFrame), 0)} ms`);
  log(`steady window: ${fmt(wall)} s, ${fps.length} remote video streams (${n} pages x ${n - 1})`);
  log(`decoded fps per remote stream: min ${fmt(Math.min(...fps))}, p50 ${fmt(pct(fps, 0.5))}, mean ${fmt(mean(fps))}, max ${fmt(Math.max(...fps))}`);
  log(`picture height forwarded (streams): ${Object.entries(heights).map(([h, c]) => `${h}p x${c}`).join(", ")}`);
  log(`jitter: video p50 ${fmt(pct(videoJitter, 0.5))} ms, max ${fmt(Math.max(...videoJitter))} ms; audio p50 ${fmt(pct(audioJitter, 0.5))} ms, max ${fmt(Math.max(...audioJitter))} ms`);
  log(`round-trip time to the SFU (ICE candidate pair): p50 ${fmt(pct(rtts, 0.5))} ms, max ${fmt(Math.max(...rtts))} ms (${rtts.length} samples)`);
  log(`packets lost in the window: ${lost}`);
  log(`video frames decoded in all pages: ${frames} (${fmt(frames / wall, 0)}/s)`);
  log(`video frames the pages encoded and sent to the SFU: ${published} (${fmt(published / wall, 0)}/s; mean per page by simulcast layer: ${Object.entries(layers).map(([rid, l]) => `${rid} (${l.height}p) ${fmt(l.fps)} fps`).join(", ")})`);
  const fwd = after.forwarded - before.forwarded;
  log(`the server's count of media frames forwarded (audio and video, per subscriber): ${fwd} (${fmt(fwd / wall, 0)}/s); CPU per forwarded media frame: ${fmt((1e6 * serverCpu) / fwd)} µs`);
  log(`server CPU: ${fmt(serverCpu, 2)} s in ${fmt(wall)} s (${fmt((100 * serverCpu) / wall)} % of a core); per forwarded video frame: ${fmt((1e6 * serverCpu) / frames)} µs`);
  log(`server CPU with the meeting empty (5 s before anyone joined): ${fmt((100 * idleCpu) / HZ / 5)} % of a core`);
  log(`Chromium CPU (all its processes): ${fmt(chromiumCpu, 1)} s in ${fmt(wall)} s (${fmt(chromiumCpu / wall, 2)} cores of ${cpus().length}); load average ${load.map((l) => l.toFixed(2)).join(" ")}`);
  if (frames === 0) throw new Error("no video was decoded in the window");
}

try {
  await main();
} catch (e) {
  console.error(`bench: ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  for (const c of cleanups) await c();
}
