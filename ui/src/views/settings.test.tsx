import { render } from "preact";
import { act } from "preact/test-utils";
import { useState } from "preact/hooks";
import { describe, expect, it } from "vitest";
import { I18nContext, translator } from "../i18n";
import { useAccount } from "../settings/account";
import { DEFAULT_PREFERENCES, PREFERENCES_KEY, readPreferences, storePreferences, type Preferences } from "../settings/preferences";
import { tabTokenStore, type TokenStore } from "../settings/tokens";
import { fakeServer } from "../test/fake-server";
import { root, until, useDomRoot } from "../test/dom-root";
import { Settings } from "./Settings";

useDomRoot();

function memoryStorage() {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
  };
}

/** Settings as the app shows them, against the fake server's `fetch`. */
function mount(opts: { server?: string; tokens: TokenStore; fetch: typeof fetch }) {
  let prefs: Preferences = DEFAULT_PREFERENCES;
  function Harness() {
    const account = useAccount(opts.server ?? "meet.uio.no", true, opts.tokens, opts.fetch);
    const [p, setP] = useState<Preferences>(DEFAULT_PREFERENCES);
    return (
      <I18nContext.Provider value={{ lang: "en", t: translator("en") }}>
        <Settings
          serverHost={opts.server ?? "meet.uio.no"}
          account={account}
          kept={opts.tokens.kept}
          preferences={p}
          onPreferences={(next) => {
            prefs = next;
            setP(next);
          }}
          onBack={() => {}}
        />
      </I18nContext.Provider>
    );
  }
  act(() => render(<Harness />, root));
  return { prefs: () => prefs };
}

const text = () => root.textContent ?? "";
const tokenInput = () => root.querySelector<HTMLInputElement>("#api-token");

async function signIn(token: string) {
  await act(async () => {
    const input = tokenInput()!;
    input.value = token;
    input.dispatchEvent(new Event("input"));
  });
  await act(async () => root.querySelector<HTMLFormElement>("form")!.requestSubmit());
}

describe("Settings: signing in", () => {
  it("refuses a token the server does not know, keeps nothing, and signs in with the right one", async () => {
    const storage = memoryStorage();
    const tokens = tabTokenStore(storage);
    const server = fakeServer("samla_right");
    mount({ tokens, fetch: server.fetch });
    await until("the sign-in form", () => !!tokenInput());

    await signIn("samla_wrong");
    await until("the refusal", () => text().includes("The server did not accept the token: unknown API token"));
    expect(storage.map.size).toBe(0);

    await signIn("  samla_right ");
    await until("signed in", () => text().includes("Signed in as Kari Nordmann (kari@uio.no), UiO."));
    expect(text()).toContain("remembered in this tab only");
    expect(storage.map.get("samla.token.meet.uio.no")).toBe("samla_right");
    expect(tokenInput()).toBeNull();
  });

  it("finds the kept token again, and forgets it on signing out", async () => {
    const storage = memoryStorage();
    storage.setItem("samla.token.meet.uio.no", "samla_right");
    const tokens = tabTokenStore(storage);
    mount({ tokens, fetch: fakeServer("samla_right").fetch });
    await until("signed in from the kept token", () => text().includes("Signed in as Kari Nordmann"));
    await act(async () => [...root.querySelectorAll("button")].find((b) => b.textContent === "Sign out")!.click());
    await until("the sign-in form again", () => !!tokenInput());
    expect(storage.map.size).toBe(0);
  });

  it("keeps a token per server", async () => {
    const storage = memoryStorage();
    storage.setItem("samla.token.meet.uio.no", "samla_right");
    mount({ server: "meet.ntnu.no", tokens: tabTokenStore(storage), fetch: fakeServer("samla_right").fetch });
    await until("signed out on the other server", () => !!tokenInput());
    expect(text()).not.toContain("Signed in");
  });

  it("signs in even where the token cannot be kept, and says so", async () => {
    const failing: TokenStore = {
      kept: "keyring",
      load: async () => null,
      save: async () => {
        throw new Error("no system keyring is running");
      },
      forget: async () => {},
    };
    mount({ tokens: failing, fetch: fakeServer("samla_right").fetch });
    await until("the sign-in form", () => !!tokenInput());
    await signIn("samla_right");
    await until("signed in", () => text().includes("Signed in as Kari Nordmann"));
    expect(root.querySelector(".settings .error")?.textContent).toBe(
      "The token could not be stored (no system keyring is running). It is used until the app closes.",
    );
  });

  it("asks for a server before a token", () => {
    mount({ server: "", tokens: tabTokenStore(memoryStorage()), fetch: fakeServer("x").fetch });
    expect(text()).toContain("Choose a server on the home screen first.");
    expect(tokenInput()).toBeNull();
  });
});

describe("Settings: joining", () => {
  it("sets the name and whether to join muted or with the camera off", async () => {
    const { prefs } = mount({ tokens: tabTokenStore(memoryStorage()), fetch: fakeServer("x").fetch });
    await act(async () => {
      const name = root.querySelector<HTMLInputElement>("#default-name")!;
      name.value = "Kari";
      name.dispatchEvent(new Event("input"));
    });
    const box = (label: string) => [...root.querySelectorAll("label.check")].find((l) => l.textContent === label)!.querySelector("input")!;
    await act(async () => box("My microphone is off").click());
    expect(prefs()).toEqual({ name: "Kari", joinMuted: true, joinCameraOff: false });
    await act(async () => box("My camera is off").click());
    expect(prefs()).toEqual({ name: "Kari", joinMuted: true, joinCameraOff: true });
  });

  it("are kept, and a damaged entry gives the defaults", () => {
    const storage = memoryStorage();
    expect(readPreferences(storage)).toEqual(DEFAULT_PREFERENCES);
    storePreferences({ name: "Ola", joinMuted: true, joinCameraOff: false }, storage);
    expect(readPreferences(storage)).toEqual({ name: "Ola", joinMuted: true, joinCameraOff: false });
    storage.setItem(PREFERENCES_KEY, "{not json");
    expect(readPreferences(storage)).toEqual(DEFAULT_PREFERENCES);
    storage.setItem(PREFERENCES_KEY, JSON.stringify({ name: 7, joinMuted: "yes", joinCameraOff: true }));
    expect(readPreferences(storage)).toEqual({ name: "", joinMuted: false, joinCameraOff: true });
  });
});
