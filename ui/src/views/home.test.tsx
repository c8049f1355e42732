import { render } from "preact";
import { act } from "preact/test-utils";
import { describe, expect, it, vi } from "vitest";
import { I18nContext, translator, type Lang } from "../i18n";
import { Home, type HomeProps } from "./Home";
import { root, useDomRoot } from "../test/dom-root";

useDomRoot();

function mount(lang: Lang, props: Partial<HomeProps>) {
  const all: HomeProps = { serverHost: "", onServerHost: () => {}, onJoin: () => {}, onHost: async () => {}, ...props };
  act(() => {
    render(
      <I18nContext.Provider value={{ lang, t: translator(lang) }}>
        <Home {...all} />
      </I18nContext.Provider>,
      root,
    );
  });
}

const hostHereButton = () => root.querySelector<HTMLButtonElement>(".host-here button");

describe("Home: hosting on this computer (desktop app)", () => {
  it("is not offered in a browser, nor when a server is chosen", () => {
    mount("nb", {});
    expect(hostHereButton()).toBeNull();
    mount("nb", { serverHost: "meet.uio.no", onHostHere: async () => {} });
    expect(hostHereButton()).toBeNull();
  });

  it("hosts when clicked, and says why when it could not", async () => {
    const onHostHere = vi.fn().mockRejectedValueOnce(new Error("port 7700 is taken")).mockResolvedValueOnce(undefined);
    mount("en", { onHostHere });
    const button = hostHereButton();
    expect(button?.textContent).toBe("Host a meeting on this computer");
    await act(async () => button!.click());
    expect(onHostHere).toHaveBeenCalledTimes(1);
    expect(root.querySelector(".host-here [role=status]")?.textContent).toContain("port 7700 is taken");
    await act(async () => button!.click());
    expect(onHostHere).toHaveBeenCalledTimes(2);
    expect(root.querySelector(".host-here [role=status]")?.textContent).toBe("");
  });
});
