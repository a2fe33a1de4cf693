import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** The cookie the dashboard's page carries the token in, once opened with `?token=`. */
export const TOKEN_COOKIE = 'sluice_monitor_token';

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * Whether a request to a server on a loopback address names this machine in its `Host` header.
 * Without a token, a loopback server answers only such requests, so a web page whose domain was
 * rebound to 127.0.0.1 (DNS rebinding) cannot read it through the user's browser.
 */
export function namesThisMachine(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined) return false;
  const host = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.replace(/:\d*$/, '');
  return isLoopback(host.toLowerCase());
}

/**
 * Checks a request's token, in time that does not depend on how much of it matches: the bearer
 * token of its `Authorization` header, else the dashboard's cookie, else its `token` query
 * parameter (how a browser first opens the page: the answer then sets the cookie).
 */
export class TokenCheck {
  readonly #expected: Buffer;

  constructor(token: string) {
    this.#expected = digest(token);
  }

  /** `'header'`, `'cookie'` or `'query'` for the place that gave the right token, `undefined` when none did. */
  accepts(req: IncomingMessage, query: URLSearchParams): 'header' | 'cookie' | 'query' | undefined {
    const auth = req.headers.authorization;
    if (auth !== undefined && /^bearer /i.test(auth) && this.#matches(auth.slice(7).trim())) return 'header';
    const cookie = cookieValue(req.headers.cookie, TOKEN_COOKIE);
    if (cookie !== undefined && this.#matches(cookie)) return 'cookie';
    const given = query.get('token');
    if (given !== null && this.#matches(given)) return 'query';
    return undefined;
  }

  /** The `Set-Cookie` value that lets the page's later requests (scripts, the event stream) through. */
  static cookie(token: string): string {
    return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
  }

  #matches(token: string): boolean {
    // Digests have one length, so the comparison takes the same time for every token given.
    return timingSafeEqual(digest(token), this.#expected);
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
