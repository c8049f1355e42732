import { describe, expect, it } from "vitest";
import { capEncodings } from "./browser";

const LAYERS: RTCRtpEncodingParameters[] = [
  { rid: "q", scaleResolutionDownBy: 4 },
  { rid: "h", scaleResolutionDownBy: 2 },
  { rid: "f", scaleResolutionDownBy: 1 },
];

describe("capEncodings", () => {
  it("leaves the layers alone without a cap or under it", () => {
    expect(capEncodings(LAYERS, 720, undefined)).toEqual(LAYERS);
    expect(capEncodings(LAYERS, 360, 360)).toEqual(LAYERS);
  });

  it("scales every layer of a 720p camera to at most 360 lines under a 360p cap", () => {
    const capped = capEncodings(LAYERS, 720, 360);
    expect(capped.map((e) => e.scaleResolutionDownBy)).toEqual([4, 2, 2]);
    for (const e of capped) expect(720 / (e.scaleResolutionDownBy ?? 1)).toBeLessThanOrEqual(360);
    expect(capped.map((e) => e.rid)).toEqual(["q", "h", "f"]);
  });

  it("caps a single layer too", () => {
    expect(capEncodings([{ maxBitrate: 1 }], 1080, 360)).toEqual([{ maxBitrate: 1, scaleResolutionDownBy: 3 }]);
  });
});
