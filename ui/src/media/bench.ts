// The frame-path benchmark page (`samla --bench-frames SECONDS`): draws the app's nine
// synthetic tiles (one 720p, eight 180p) through the same FrameFeed and WebGL renderer as a
// meeting, counts frames drawn and the time from the app queueing a frame to it being drawn,
// and reports the figures to the app.

import { invoke } from "@tauri-apps/api/core";
import { FrameFeed } from "./desktop";
import { I420Renderer, nowUs } from "./i420-gl";

/** Frames before measuring, so start-up (shader compile, first uploads) is not counted. */
const WARM_UP_MS = 2000;
/** The app's benchmark tiles: participant 1 is 1280x720, 2-9 are 320x180. */
const TILES = [1, 2, 3, 4, 5, 6, 7, 8, 9];

interface TileStats {
  width: number;
  height: number;
  frames: number;
  latenciesMs: number[];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function runFrameBench(root: HTMLElement, url: string, seconds: number): void {
  root.style.cssText = "display:grid;grid-template-columns:repeat(4,1fr);gap:4px;padding:4px;background:#111;";
  const feed = new FrameFeed(url);
  const stats = new Map<number, TileStats>();
  let measuring = false;
  let started = 0;

  for (const participant of TILES) {
    const canvas = document.createElement("canvas");
    canvas.style.cssText = participant === 1 ? "width:100%;grid-column:span 4;" : "width:100%;";
    root.append(canvas);
    const renderer = new I420Renderer(canvas);
    feed.onFrame(participant, "camera", (frame) => {
      renderer.draw(frame);
      if (!measuring) return;
      let s = stats.get(participant);
      if (!s) stats.set(participant, (s = { width: frame.width, height: frame.height, frames: 0, latenciesMs: [] }));
      s.frames += 1;
      s.latenciesMs.push((nowUs() - frame.sentUs) / 1000);
    });
  }
  feed.connect();

  setTimeout(() => {
    void invoke("bench_begin").then(() => {
      measuring = true;
      started = performance.now();
      setTimeout(finish, seconds * 1000);
    });
  }, WARM_UP_MS);

  function finish(): void {
    measuring = false;
    const elapsed = (performance.now() - started) / 1000;
    const tiles = [...stats.entries()]
      .sort(([a], [b]) => a - b)
      .map(([participant, s]) => {
        const sorted = [...s.latenciesMs].sort((a, b) => a - b);
        return {
          participant,
          width: s.width,
          height: s.height,
          fps: s.frames / elapsed,
          latency_ms_p50: percentile(sorted, 50),
          latency_ms_p95: percentile(sorted, 95),
        };
      });
    feed.close();
    void invoke("bench_report", { report: { seconds: elapsed, tiles } });
  }
}
