// The page inside the desktop app: the same App as in a browser, with the desktop media
// backend, plus "host a meeting on this computer" (the app's embedded server) when no
// server is configured.

import { invoke } from "@tauri-apps/api/core";
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { App, type AppConfig, type AppDeps } from "../app";
import { pickLanguage, readStoredLanguage, translator } from "../i18n";
import { SignallingClient, type JoinRequest } from "../protocol/client";
import { hostOf } from "../protocol/server-host";
import type { TokenStore } from "../settings/tokens";
import { runFrameBench } from "./bench";
import { DesktopMediaBackend, FrameFeed, desktopConfig, type DesktopConfig } from "./desktop";

/** A meeting the app created on its embedded server (src-tauri/src/host.rs `HostedMeeting`). */
interface HostedMeeting {
  meeting_id: string;
  server_host: string;
  join_url: string;
  token: string;
}

/** Joins with the host's token: the app created the meeting, so it joins as its host. */
class HostClient extends SignallingClient {
  constructor(
    url: string,
    private readonly token: string,
  ) {
    super({ url, clientName: "samla-desktop/0.1" });
  }

  override join(opts: JoinRequest): void {
    super.join({ ...opts, token: opts.token ?? this.token });
  }
}

/** API tokens in the system's keyring, through the app (src-tauri/src/credentials.rs). */
const keyringTokens: TokenStore = {
  kept: "keyring",
  load: (server) => invoke<string | null>("token_load", { server }),
  save: (server, token) => invoke<void>("token_save", { server, token }),
  forget: (server) => invoke<void>("token_forget", { server }),
};

export async function startDesktop(base: AppConfig, root: HTMLElement): Promise<void> {
  const boot = await desktopConfig();
  if (boot.bench_seconds) {
    runFrameBench(root, boot.frame_url, boot.bench_seconds);
    return;
  }
  const config: AppConfig = {
    ...base,
    meetingId: boot.join?.meeting_id ?? null,
    serverHost: boot.join?.server_host ?? (boot.server ? hostOf(boot.server) : ""),
    secure: boot.join?.secure ?? (boot.server ? !boot.server.startsWith("http://") : false),
    name: boot.name ?? base.name,
    chooseServer: true,
  };
  render(<DesktopShell boot={boot} base={config} />, root);
}

function DesktopShell({ boot, base }: { boot: DesktopConfig; base: AppConfig }) {
  const feed = useMemo(() => new FrameFeed(boot.frame_url), [boot.frame_url]);
  const [hosted, setHosted] = useState<HostedMeeting | null>(null);
  const t = translator(pickLanguage({ query: base.langQuery, stored: readStoredLanguage(), languages: base.systemLanguages }));

  const config: AppConfig = hosted
    ? { ...base, meetingId: hosted.meeting_id, serverHost: hosted.server_host, secure: false }
    : base;
  const deps = useMemo((): AppDeps => {
    let serverHost = "";
    return {
      makeClient: (url) => {
        serverHost = new URL(url).host;
        return hosted ? new HostClient(url, hosted.token) : new SignallingClient({ url, clientName: "samla-desktop/0.1" });
      },
      makeMedia: (client) => new DesktopMediaBackend(client, serverHost, feed),
      tokens: keyringTokens,
      // Home offers this; errors are shown there.
      hostHere: boot.server
        ? undefined
        : async () => setHosted(await invoke<HostedMeeting>("host_meeting", { topic: t("meeting"), waitingRoom: true })),
    };
  }, [hosted, feed, boot.server, t]);

  // Until the meeting is on (and its header shows the link), show the link others join by.
  const [inMeeting, setInMeeting] = useState(false);
  useEffect(() => {
    if (!hosted) return;
    const check = () => setInMeeting(!!document.querySelector("figure.tile"));
    check();
    const observer = new MutationObserver(check);
    observer.observe(document.getElementById("app") ?? document.body, { childList: true, subtree: true });
    return () => observer.disconnect();
  }, [hosted]);

  return (
    <>
      {hosted && !inMeeting && (
        <aside class="desktop-host">
          <span>{t("desktopJoinLink")}</span>
          <input readOnly value={hosted.join_url} size={40} aria-label={t("desktopJoinLink")} onFocus={(e) => e.currentTarget.select()} />
        </aside>
      )}
      <App key={hosted?.meeting_id ?? "home"} config={config} deps={deps} />
    </>
  );
}
