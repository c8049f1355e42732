import { render } from "preact";
import { App, type AppConfig } from "./app";
import { BrowserMediaBackend } from "./media/browser";
import { SignallingClient } from "./protocol/client";
import { parseMeetingId } from "./protocol/messages";
import "./styles.css";

/** The meeting id from /j/{id}, or from <meta name="samla-meeting"> when the server fills it in. */
function meetingIdFromPage(): string | null {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="samla-meeting"]')?.content;
  if (meta && !meta.startsWith("{{")) return parseMeetingId(meta);
  const m = /\/j\/([0-9-]+)/.exec(location.pathname);
  return m?.[1] ? parseMeetingId(m[1]) : null;
}

const params = new URLSearchParams(location.search);
const config: AppConfig = {
  meetingId: meetingIdFromPage() ?? (params.get("meeting") ? parseMeetingId(params.get("meeting")!) : null),
  name: (params.get("name") ?? "").slice(0, 64),
  langQuery: params.get("lang"),
  systemLanguages: navigator.languages ?? [navigator.language],
  serverHost: params.get("server") ?? location.host,
  secure: location.protocol === "https:",
  chooseServer: false,
};

const root = document.getElementById("app")!;
if ("__TAURI_INTERNALS__" in window) {
  // Inside the Tauri app: media in Rust, and hosting on the app's own server (loaded only
  // there, so browsers do not download the desktop code).
  void import("./media/desktop-shell").then((m) => m.startDesktop(config, root));
} else {
  render(
    <App
      config={config}
      deps={{
        makeClient: (url) => new SignallingClient({ url, clientName: "samla-ui/0.1" }),
        makeMedia: (client) => new BrowserMediaBackend((msg) => client.send(msg)),
      }}
    />,
    root,
  );
}
