import type { RouteSpec } from '../../core/spec.ts';
import type { ClientHello } from './client-hello.ts';

/**
 * The pool for a ClientHello: the first route whose conditions all hold; a route without conditions catches all.
 * `sni` matches the server name exactly, or with `*.` any name below that domain (not the domain itself, as a
 * certificate wildcard would; and any depth, since routing is about who serves the name, not who may sign for it).
 */
export function routeByServerName(routes: readonly RouteSpec[], hello: ClientHello): string | undefined {
  const name = hello.serverName;
  for (const r of routes) {
    if (r.sni === undefined || matchesServerName(r.sni, name)) return r.pool;
  }
  return undefined;
}

export function matchesServerName(pattern: string, name: string | undefined): boolean {
  if (name === undefined) return false;
  if (!pattern.startsWith('*.')) return pattern === name;
  const domain = pattern.slice(1); // ".example.org"
  return name.length > domain.length && name.endsWith(domain);
}
