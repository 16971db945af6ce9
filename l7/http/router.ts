import type { RouteSpec } from '../../core/spec.ts';
import { matchesServerName } from '../tls/router.ts';
import type { RequestHead } from './request-head.ts';

/**
 * Picks the pool for an HTTP request: the first route whose conditions all hold (host, path, path prefix, path
 * regular expression, method, header); a route without conditions catches all. Regular expressions are compiled
 * once per route list.
 */
export class HttpRouter {
  readonly #routes: readonly RouteSpec[];
  readonly #regex: readonly (RegExp | undefined)[];

  constructor(routes: readonly RouteSpec[]) {
    this.#routes = routes;
    this.#regex = routes.map((r) => (r.pathRegex === undefined ? undefined : new RegExp(r.pathRegex)));
  }

  /** The pool for a request whose host (lower case, no port) and path (before `?`) are given; undefined = no route. */
  route(head: RequestHead, host: string, path: string): string | undefined {
    const routes = this.#routes;
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i] as RouteSpec;
      if (r.host !== undefined && !matchesServerName(r.host, host)) continue;
      if (r.path !== undefined && r.path !== path) continue;
      if (r.pathPrefix !== undefined && !path.startsWith(r.pathPrefix)) continue;
      const re = this.#regex[i];
      if (re !== undefined && !re.test(path)) continue;
      if (r.method !== undefined && r.method !== head.method) continue;
      if (r.header !== undefined) {
        const v = head.get(r.header.name);
        if (v === undefined || (r.header.value !== undefined && v !== r.header.value)) continue;
      }
      return r.pool;
    }
    return undefined;
  }
}

/** The host of an authority (`Example.org.:8080` → `example.org`, `[::1]:80` → `[::1]`): lower case, without port or trailing dot. */
export function hostOf(authority: string): string {
  const end = authority.startsWith('[') ? authority.indexOf(']') + 1 : authority.lastIndexOf(':');
  const host = (end > 0 ? authority.slice(0, end) : authority).toLowerCase();
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** The path of a request-target: origin-form up to `?`; absolute-form after its authority; `*` as is. */
export function pathOf(target: string): string {
  let start = 0;
  if (target.charCodeAt(0) !== 0x2f && target !== '*') {
    const scheme = target.indexOf('://');
    const slash = scheme < 0 ? -1 : target.indexOf('/', scheme + 3);
    if (slash < 0) return '/';
    start = slash;
  }
  const q = target.indexOf('?', start);
  return q < 0 ? (start === 0 ? target : target.slice(start)) : target.slice(start, q);
}
