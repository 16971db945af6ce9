import type { RealServer } from '../server.ts';
import type { QuorumSpec, ServiceHealthSpec } from './spec.ts';

/** A service keeps a quorum only when some server of it is checked (Keepalived: a virtual server with checkers). */
export function hasChecks(h: ServiceHealthSpec): boolean {
  if (h.health !== undefined) return true;
  for (const s of h.servers.values()) if (s.health !== undefined) return true;
  return false;
}

/** The weight a service has to work with: the sum of the weights of servers up by health and not held down (Keepalived's weight sum of alive servers). */
export function liveWeight(servers: readonly RealServer[]): number {
  let sum = 0;
  for (const s of servers) if (s.health === 'up' && !s.adminDown) sum += s.weight;
  return sum;
}

/**
 * The quorum after the live weight became `sum`, as Keepalived decides it: a held quorum is lost when the sum falls
 * below weight - hysteresis (or to 0), a lost one is regained at weight + hysteresis; in between it stays as it was.
 */
export function quorumAfter(up: boolean, sum: number, q: QuorumSpec): boolean {
  if (up) return sum > 0 && sum >= q.weight - q.hysteresis;
  return sum >= q.weight + q.hysteresis;
}
