// Microphone level for the pre-join meter: the loudness of a block of samples mapped onto
// 0..1 the way a speech meter reads (logarithmic: -60 dBFS and below is 0, 0 dBFS is 1).

/** Level below which the meter shows nothing, in dBFS. */
export const LEVEL_FLOOR_DB = -60;

/** RMS loudness of `samples` (floats in -1..1) as a meter level 0..1. */
export function levelFromSamples(samples: ArrayLike<number>): number {
  if (samples.length === 0) return 0;
  let sq = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    sq += s * s;
  }
  return levelFromRms(Math.sqrt(sq / samples.length));
}

/** An RMS loudness (0..1 of full scale) as a meter level 0..1. */
export function levelFromRms(rms: number): number {
  if (!(rms > 0)) return 0;
  const db = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (db - LEVEL_FLOOR_DB) / -LEVEL_FLOOR_DB));
}

/** A meter that rises at once and falls back slowly, so speech does not flicker. */
export function smoothLevel(previous: number, next: number, fall = 0.15): number {
  return next >= previous ? next : Math.max(next, previous - fall);
}
