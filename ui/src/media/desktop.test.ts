import { describe, expect, it, vi } from "vitest";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));

const { toShareError } = await import("./desktop");
const { ScreenShareError } = await import("./backend");

describe("toShareError", () => {
  it("keeps the app's reason and detail", () => {
    const e = toShareError({ reason: "no_display", detail: "no display to share (DISPLAY is not set)" });
    expect(e).toBeInstanceOf(ScreenShareError);
    expect(e.reason).toBe("no_display");
    expect(e.detail).toContain("DISPLAY");
  });

  it("treats anything else as a failed capture", () => {
    expect(toShareError({ reason: "bogus" }).reason).toBe("capture");
    const e = toShareError(new Error("boom"));
    expect(e.reason).toBe("capture");
    expect(e.detail).toBe("boom");
    expect(toShareError("x").detail).toBe("x");
  });
});
