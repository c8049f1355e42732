// Where the user's API token for a server is kept between visits. The desktop app keeps it in
// the system's keyring (src-tauri/src/credentials.rs); a browser keeps it for the tab only
// (sessionStorage), since the computer may be a shared one in a lecture hall.

export interface TokenStore {
  /** Where tokens are kept, for Settings to tell the user. */
  readonly kept: "keyring" | "tab";
  load(server: string): Promise<string | null>;
  save(server: string, token: string): Promise<void>;
  forget(server: string): Promise<void>;
}

const PREFIX = "samla.token.";

/** The browser's store: per tab, per server host. */
export function tabTokenStore(storage: Pick<Storage, "getItem" | "setItem" | "removeItem"> | undefined = sessionStore()): TokenStore {
  return {
    kept: "tab",
    load: async (server) => storage?.getItem(PREFIX + server) ?? null,
    save: async (server, token) => {
      if (!storage) throw new Error("this browser keeps no data for the page");
      storage.setItem(PREFIX + server, token);
    },
    forget: async (server) => storage?.removeItem(PREFIX + server),
  };
}

function sessionStore(): Storage | undefined {
  try {
    return globalThis.sessionStorage;
  } catch {
    return undefined;
  }
}
