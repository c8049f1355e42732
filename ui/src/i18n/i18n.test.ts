import { describe, expect, it } from "vitest";
import { LANGUAGES, messages, pickLanguage, storeLanguage, readStoredLanguage, systemLanguage, translator } from "./index";

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("catalogue", () => {
  it("has every key in nb, nn and en, none empty", () => {
    for (const [key, entry] of Object.entries(messages)) {
      for (const lang of LANGUAGES) {
        const text = (entry as Record<string, unknown>)[lang];
        expect(typeof text, `${key}.${lang}`).toBe("string");
        expect((text as string).trim().length, `${key}.${lang}`).toBeGreaterThan(0);
      }
      expect(Object.keys(entry).sort(), key).toEqual([...LANGUAGES].sort());
    }
  });

  it("uses the same placeholders in every language", () => {
    for (const [key, entry] of Object.entries(messages)) {
      const en = placeholders(entry.en);
      expect(placeholders(entry.nb), `${key}.nb`).toEqual(en);
      expect(placeholders(entry.nn), `${key}.nn`).toEqual(en);
    }
  });

  it("speaks idiomatic bokmål and nynorsk where they differ", () => {
    expect(messages.raiseHand.nb).toBe("Rekk opp hånden");
    expect(messages.raiseHand.nn).toBe("Rekk opp handa");
    expect(messages.waitingForHost.nb).toBe("Venter på at verten slipper deg inn");
    expect(messages.waitingForHost.nn).toBe("Ventar på at verten slepper deg inn");
    expect(messages.join.en).toBe("Join");
    expect(messages.join.nb).toBe("Bli med");
  });
});

describe("translator", () => {
  it("fills placeholders", () => {
    expect(translator("nb")("muteParticipant", { name: "Kari" })).toBe("Slå av lyden til Kari");
    expect(translator("en")("pageOf", { page: 2, pages: 3 })).toBe("Page 2 of 3");
  });
});

describe("language choice", () => {
  it("follows the system", () => {
    expect(systemLanguage(["nb-NO", "en"])).toBe("nb");
    expect(systemLanguage(["no"])).toBe("nb");
    expect(systemLanguage(["nn-NO"])).toBe("nn");
    expect(systemLanguage(["en-US", "nb"])).toBe("en");
    expect(systemLanguage(["de-DE", "nn"])).toBe("nn");
    expect(systemLanguage(["de-DE"])).toBe("en");
    expect(systemLanguage([])).toBe("en");
  });

  it("lets ?lang= and the stored setting override it", () => {
    expect(pickLanguage({ query: "en", stored: "nn", languages: ["nb"] })).toBe("en");
    expect(pickLanguage({ query: null, stored: "nn", languages: ["nb"] })).toBe("nn");
    expect(pickLanguage({ query: "xx", stored: "yy", languages: ["nb"] })).toBe("nb");
  });

  it("stores and clears the override", () => {
    const mem = new Map<string, string>();
    const storage = {
      getItem: (k: string) => mem.get(k) ?? null,
      setItem: (k: string, v: string) => void mem.set(k, v),
      removeItem: (k: string) => void mem.delete(k),
    };
    storeLanguage("nn", storage);
    expect(readStoredLanguage(storage)).toBe("nn");
    storeLanguage(null, storage);
    expect(readStoredLanguage(storage)).toBeNull();
  });
});
