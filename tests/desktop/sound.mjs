// Sound for the desktop end-to-end test, in the private PipeWire that tests/desktop/sound-session
// starts: a tone played into a virtual microphone, a recording of what virtual speakers play,
// virtual devices plugged in, and the pitch of a recording.

import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const RATE = 48000;
export const MICROPHONE = "samla-test-mic";
export const SPEAKERS = "samla-test-speaker";

/** Writes a mono 16-bit 48 kHz WAV of `seconds` of a `hz` sine at a speaking level. */
export function writeTone(path, hz, seconds) {
  const n = RATE * seconds;
  const wav = Buffer.alloc(44 + n * 2);
  wav.write("RIFF", 0);
  wav.writeUInt32LE(36 + n * 2, 4);
  wav.write("WAVEfmt ", 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(RATE, 24);
  wav.writeUInt32LE(RATE * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write("data", 36);
  wav.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) wav.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / RATE)), 44 + i * 2);
  writeFileSync(path, wav);
}

/** Plays `wav` into the virtual microphone `mic` (a node name), as someone speaking into it:
 * `start` (the test's process starter) runs the player, which is then linked to the
 * microphone's input. */
export async function speakInto(start, wav, mic = MICROPHONE) {
  const mouth = `${mic}-mouth`;
  start(mouth, "pw-play", ["-P", `{ node.autoconnect=false node.name=${mouth} }`, wav]);
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync("pw-link", [`${mouth}:output_MONO`, `${mic}:input_MONO`], { stdio: "ignore" });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`could not link the tone to the virtual microphone ${mic}`);
}

/** Records what the virtual speakers `sink` (a node name) play into `wav` (16-bit stereo
 * 48 kHz) until killed. */
export function recordSpeakers(start, wav, sink = SPEAKERS) {
  return start(`${sink}-recorder`, "pw-record", ["--target", sink, "-P", "{ stream.capture.sink=true }", "--format", "s16", "--rate", String(RATE), "--channels", "2", wav]);
}

/** Plugs in a virtual device: `speakers` (a sink) or a `microphone` (a source), shown to
 * programs as `description`. */
export function plugIn(name, description, kind) {
  const [cls, channels] = kind === "speakers" ? ["Audio/Sink", "[FL FR]"] : ["Audio/Source/Virtual", "[MONO]"];
  execFileSync("pw-cli", [
    "create-node",
    "adapter",
    `{ factory.name=support.null-audio-sink node.name=${name} node.description="${description}" media.class=${cls} audio.position=${channels} object.linger=true }`,
  ], { stdio: "ignore" });
}

/** The first channel of a 16-bit WAV, to its end (a recorder stopped by a signal leaves its
 * header's sizes unfinished, so they are not trusted). */
export function readWav(path, channels) {
  const bytes = readFileSync(path);
  const data = bytes.indexOf("data") + 8;
  const frames = Math.floor((bytes.length - data) / (2 * channels));
  const samples = new Int16Array(frames);
  for (let i = 0; i < frames; i++) samples[i] = bytes.readInt16LE(data + i * 2 * channels);
  return samples;
}

/** `samples` from the first to the last one louder than `threshold`: the stretch something
 * was played in (kept whole, so the waveform is intact for the pitch). */
export function loudSpan(samples, threshold) {
  let first = -1;
  let last = -1;
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i]) > threshold) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return first < 0 ? samples.subarray(0, 0) : samples.subarray(first, last + 1);
}

/** The strongest of `candidates` (Hz) in `samples` (Goertzel), and how loud the samples are. */
export function strongestPitch(samples, candidates) {
  let best = { hz: null, power: 0 };
  for (const hz of candidates) {
    const k = 2 * Math.cos((2 * Math.PI * hz) / RATE);
    let s1 = 0;
    let s2 = 0;
    for (const x of samples) {
      const s0 = x + k * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const power = s1 * s1 + s2 * s2 - k * s1 * s2;
    if (power > best.power) best = { hz, power };
  }
  let sum = 0;
  for (const x of samples) sum += x * x;
  return { hz: best.hz, rms: Math.sqrt(sum / Math.max(1, samples.length)) };
}
