import { Gauge, Registry, Counter } from 'prom-client';
import type { Director } from '../../core/director.ts';
import type { Counters } from '../../core/stats.ts';

/**
 * Prometheus metrics read from the live model at scrape time: nothing on the data path updates them.
 * Per service and per real server: connections, packets and bytes (counters), active/inactive (gauges), weight and up.
 */
export function createMetrics(director: Director): Registry {
  const registry = new Registry();
  const labels = ['service', 'server'] as const;
  const total = (name: string, help: string, read: (c: Counters) => number) =>
    new Counter({
      name, help, labelNames: labels, registers: [registry],
      collect() {
        this.reset();
        for (const v of director.services()) {
          this.inc({ service: v.name, server: '' }, read(v.stats));
          for (const s of v.servers) this.inc({ service: v.name, server: s.id }, read(s.stats));
        }
      },
    });
  total('yoke_connections_total', 'Connections scheduled (TCP connections, UDP sessions)', (c) => c.conns);
  total('yoke_in_packets_total', 'Chunks (TCP) or datagrams (UDP) from clients', (c) => c.inPkts);
  total('yoke_out_packets_total', 'Chunks (TCP) or datagrams (UDP) from real servers', (c) => c.outPkts);
  total('yoke_in_bytes_total', 'Bytes from clients', (c) => c.inBytes);
  total('yoke_out_bytes_total', 'Bytes from real servers', (c) => c.outBytes);
  const gauge = (name: string, help: string, read: (s: import('../../core/server.ts').RealServer) => number) =>
    new Gauge({
      name, help, labelNames: ['service', 'server'], registers: [registry],
      collect() {
        this.reset();
        for (const v of director.services()) for (const s of v.servers) this.set({ service: v.name, server: s.id }, read(s));
      },
    });
  gauge('yoke_server_active_connections', 'Established connections (IPVS ActiveConn)', (s) => s.activeConns);
  gauge('yoke_server_inactive_connections', 'Connecting, half-closed and UDP (IPVS InActConn)', (s) => s.inactiveConns);
  gauge('yoke_server_weight', 'Scheduling weight (0 = quiesced)', (s) => s.weight);
  gauge('yoke_server_up', '1 when the server is alive (up or inhibited by health, not held down by the operator): its open and persistent clients may use it; else 0', (s) => (s.alive ? 1 : 0));
  gauge('yoke_server_check_ok', '1 when the last health check passed, 0 when it failed, -1 before the first or without a check', (s) => (s.report.check === undefined ? -1 : s.report.check.ok ? 1 : 0));
  new Gauge({
    name: 'yoke_service_quorum_up', help: '1 while the live weight meets the quorum (Keepalived quorum), else 0', labelNames: ['service'], registers: [registry],
    collect() {
      this.reset();
      for (const v of director.services()) this.set({ service: v.name }, v.quorumUp ? 1 : 0);
    },
  });
  new Counter({
    name: 'yoke_refused_connections_total', help: 'Client connections turned away', labelNames: ['service', 'reason'], registers: [registry],
    collect() {
      this.reset();
      for (const v of director.services()) {
        this.inc({ service: v.name, reason: 'no_server' }, v.refused.noServer);
        this.inc({ service: v.name, reason: 'limit' }, v.refused.limit);
      }
    },
  });
  return registry;
}
