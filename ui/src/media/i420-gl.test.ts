import { describe, expect, it } from "vitest";
import { FRAME_HEADER_BYTES, parseFrame } from "./i420-gl";

function frame(width: number, height: number, kind = 0, participant = 7): ArrayBuffer {
  const luma = width * height;
  const chroma = ((width + 1) >> 1) * ((height + 1) >> 1);
  const buf = new ArrayBuffer(FRAME_HEADER_BYTES + luma + 2 * chroma);
  const h = new DataView(buf);
  h.setUint8(0, 1);
  h.setUint8(1, kind);
  h.setUint32(4, participant, true);
  h.setUint32(8, width, true);
  h.setUint32(12, height, true);
  h.setBigUint64(16, 1_700_000_000_000_000n, true);
  h.setBigUint64(24, 1_700_000_000_000_500n, true);
  new Uint8Array(buf, FRAME_HEADER_BYTES + luma, chroma).fill(200);
  return buf;
}

describe("frame socket messages", () => {
  it("reads the header and splits the planes", () => {
    const f = parseFrame(frame(6, 4, 1))!;
    expect(f).not.toBeNull();
    expect([f.participant, f.kind, f.width, f.height]).toEqual([7, "screen", 6, 4]);
    expect(f.sentUs - f.captureUs).toBe(500);
    expect([f.y.length, f.u.length, f.v.length]).toEqual([24, 6, 6]);
    expect(f.u[0]).toBe(200);
    expect(f.v[0]).toBe(0);
  });

  it("rounds chroma up for odd sizes", () => {
    const f = parseFrame(frame(5, 3))!;
    expect([f.u.length, f.kind]).toEqual([6, "camera"]);
  });

  it("rejects truncated or unknown messages", () => {
    expect(parseFrame(new ArrayBuffer(10))).toBeNull();
    expect(parseFrame(frame(6, 4).slice(0, 40))).toBeNull();
    const wrongVersion = frame(6, 4);
    new DataView(wrongVersion).setUint8(0, 2);
    expect(parseFrame(wrongVersion)).toBeNull();
    expect(parseFrame(frame(6, 4, 9))).toBeNull();
  });

  it("knows the self view's track", () => {
    const f = parseFrame(frame(6, 4, 2, 0))!;
    expect([f.participant, f.kind]).toEqual([0, "self"]);
  });
});
