// A meeting server as people write it, in one place: the signalling socket, the REST API and
// the join links are all built from its host name.

/** The host (and port) of a server as the user typed or pasted it: "https://meet.uio.no/j/123"
 * and " meet.uio.no " are both "meet.uio.no". */
export function hostOf(server: string): string {
  return server
    .trim()
    .replace(/^(https?|wss?):\/\//, "")
    .replace(/\/.*$/, "");
}
