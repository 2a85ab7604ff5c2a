/** The caller's address, user agent and the client id it named in `X-Colloquy-Client`. */
export interface RequestFacts {
  ip: string | undefined;
  userAgent: string | undefined;
  clientId: string | undefined;
}

type Headers = Record<string, string | string[] | undefined>;

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Client ids are the shape of every other id (a UUID fits); anything else is ignored. */
const CLIENT_ID = /^[\w.:@-]{1,128}$/;

/**
 * The request facts presence uses, from the headers and the host's view of the peer address:
 * the user agent (capped, control characters dropped) and a well-formed `X-Colloquy-Client`.
 */
export function requestFacts(headers: Headers, ip: string | undefined): RequestFacts {
  const agent = first(headers['user-agent']);
  const clientId = first(headers['x-colloquy-client'])?.trim();
  return {
    ip: ip || undefined,
    userAgent: agent ? agent.replace(/\p{Cc}/gu, '').slice(0, 512) || undefined : undefined,
    clientId: clientId && CLIENT_ID.test(clientId) ? clientId : undefined,
  };
}
