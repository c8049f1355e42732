// Being signed in to a server: the API token kept for it, checked against the server (who it
// belongs to) before it is used or kept. One account per server host; changing the server
// loads that server's token.

import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, RestClient, type ApiMe } from "../protocol/rest";
import { hostOf } from "../protocol/server-host";
import type { TokenStore } from "./tokens";

export type AccountState =
  | { status: "signed_out" }
  | { status: "checking" }
  | { status: "signed_in"; me: ApiMe; client: RestClient; token: string; keptError?: string }
  /** The kept token, or the one just given, was not accepted; why, from the server. */
  | { status: "refused"; reason: string; unreachable: boolean };

export interface Account {
  state: AccountState;
  /** Checks the token with the server, then keeps it. Resolves once the state says how it went. */
  signIn(token: string): Promise<void>;
  signOut(): Promise<void>;
}

/** How long the server's host name must stay unchanged before its token is looked up. */
export const SERVER_SETTLE_MS = 300;

export function useAccount(serverHost: string, secure: boolean, tokens: TokenStore, fetchImpl?: typeof fetch): Account {
  const server = hostOf(serverHost);
  const [state, setState] = useState<AccountState>({ status: "signed_out" });

  /** Asks the server who the token belongs to; the state that follows. */
  const check = useCallback(
    async (token: string): Promise<AccountState> => {
      const client = new RestClient(server, secure, token, fetchImpl);
      try {
        return { status: "signed_in", me: await client.me(), client, token };
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        return { status: "refused", reason, unreachable: err instanceof ApiError && err.status === 0 };
      }
    },
    [server, secure, fetchImpl],
  );

  // The token kept for this server, if any, checked once the server is chosen: a moment after
  // the last keystroke, so typing a host name does not ask every prefix of it.
  useEffect(() => {
    let current = true;
    setState({ status: server ? "checking" : "signed_out" });
    if (!server) return;
    const timer = setTimeout(() => {
      void (async () => {
        const token = await tokens.load(server).catch(() => null);
        const next = token ? await check(token) : ({ status: "signed_out" } as const);
        if (current) setState(next);
      })();
    }, SERVER_SETTLE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [server, tokens, check]);

  const signIn = useCallback(
    async (token: string) => {
      setState({ status: "checking" });
      const next = await check(token.trim());
      if (next.status === "signed_in") {
        try {
          await tokens.save(server, next.token);
        } catch (err) {
          // Signed in all the same, for as long as the app or tab is open.
          next.keptError = err instanceof Error ? err.message : String(err);
        }
      }
      setState(next);
    },
    [server, tokens, check],
  );

  const signOut = useCallback(async () => {
    setState({ status: "signed_out" });
    await tokens.forget(server).catch(() => {});
  }, [server, tokens]);

  return { state, signIn, signOut };
}
