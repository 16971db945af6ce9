// Config files for the programs under test, written into the run's folder. Every address is on loopback.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

function write(dir: string, name: string, text: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Temp folders nginx's http module wants, inside the run's folder. */
function nginxTemps(dir: string, name: string): string {
  const tmp = join(dir, `${name}-tmp`);
  mkdirSync(tmp, { recursive: true });
  return `client_body_temp_path ${tmp}/body; proxy_temp_path ${tmp}/proxy; fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi; scgi_temp_path ${tmp}/scgi;`;
}

/**
 * nginx as the HTTP real server: a small static answer on `/`, a large file on `/big` (sendfile). With `tls`, the
 * same site also on an HTTPS port (the TLS passthrough scenario's real server), TLS 1.2 only: its session IDs and
 * tickets travel in clear, so yoke's sticky tls_session has something to learn from every handshake.
 */
export function nginxBackend(dir: string, port: number, bigFile: string, tls?: { port: number; cert: string; key: string }): string {
  const name = tls === undefined ? 'nginx-backend' : 'nginx-backend-tls';
  const ssl = tls === undefined ? '' : `
    listen 127.0.0.1:${tls.port} ssl backlog=4096;
    ssl_protocols TLSv1.2; ssl_certificate ${tls.cert}; ssl_certificate_key ${tls.key};`;
  return write(dir, `${name}.conf`, `# bench: HTTP real server
worker_processes 1;
daemon off;
pid ${join(dir, `${name}.pid`)};
error_log ${join(dir, `${name}.error.log`)} warn;
events { worker_connections 8192; }
http {
  access_log off;
  ${nginxTemps(dir, name)}
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
  sendfile on;
  server {
    listen 127.0.0.1:${port} backlog=4096;${ssl}
    location = / { default_type text/plain; return 200 "hello from the bench real server\\n"; }
    location = /big { alias ${bigFile}; default_type application/octet-stream; }
  }
}
`);
}

/** nginx \`stream\` as a candidate: UDP relay (proxy_responses 1) and TCP proxy, one worker. */
export function nginxStream(dir: string, name: string, opts: { udpPort?: number; udpTarget?: number; tcpPort?: number; tcpTarget?: number }): string {
  const servers: string[] = [];
  if (opts.udpPort !== undefined) {
    servers.push(`  server { listen 127.0.0.1:${opts.udpPort} udp; proxy_pass 127.0.0.1:${opts.udpTarget}; proxy_responses 1; proxy_timeout 10s; }`);
  }
  if (opts.tcpPort !== undefined) {
    servers.push(`  server { listen 127.0.0.1:${opts.tcpPort} backlog=4096; proxy_pass 127.0.0.1:${opts.tcpTarget}; proxy_timeout 15m; }`);
  }
  return write(dir, `${name}.conf`, `# bench: nginx stream candidate
load_module ${NGINX_STREAM_MODULE};
worker_processes 1;
worker_rlimit_nofile 19800;
daemon off;
pid ${join(dir, `${name}.pid`)};
error_log ${join(dir, `${name}.error.log`)} warn;
events { worker_connections 19500; }
stream {
${servers.join('\n')}
}
`);
}

/** HAProxy \`mode tcp\` (or \`mode http\`: keep-alive both sides, idle server connections shared with http-reuse safe), one thread, IPVS-like timeouts. */
export function haproxy(dir: string, name: string, port: number, target: number, mode: 'tcp' | 'http' = 'tcp'): string {
  return write(dir, `${name}.cfg`, `# bench: HAProxy candidate
global
  nbthread 1
  maxconn 9600
defaults
  mode ${mode}
  maxconn 9600
  timeout connect 5s
  timeout client 900s
  timeout server 900s
frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
${mode === 'http' ? '  http-reuse safe\n' : ''}  server s1 127.0.0.1:${target}
`);
}

/** yoke: one service (L4, or \`mode: http\`) with one real server, round robin. */
export function yoke(dir: string, name: string, mode: 'tcp' | 'udp' | 'http', port: number, target: number): string {
  return write(dir, `${name}.yaml`, `# bench: yoke candidate
services:
  - name: bench
    listen: 127.0.0.1:${port}
    mode: ${mode}
    scheduler: rr
    servers:
      - address: 127.0.0.1:${target}
`);
}

/** yoke for the health scenario: one round-robin service over `servers` with `health` (a YAML flow map; none when undefined), and the admin API. */
export function yokeHealth(dir: string, name: string, o: { port: number; admin: number; tokenFile: string; servers: readonly string[]; health: string | undefined }): string {
  return write(dir, `${name}.yaml`, `# bench: yoke with health checks
admin:
  listen: 127.0.0.1:${o.admin}
  token: file:${o.tokenFile}
services:
  - name: hc
    listen: 127.0.0.1:${o.port}
    scheduler: rr
${o.health === undefined ? '' : `    health: ${o.health}\n`}    servers:
${o.servers.map((a) => `      - address: ${a}`).join('\n')}
`);
}

/** nginx \`http\` reverse proxy: \`proxy_pass\` to an upstream with a \`keepalive\` pool (HTTP/1.1, Connection ""). */
export function nginxProxy(dir: string, name: string, port: number, target: number): string {
  return write(dir, `${name}.conf`, `# bench: nginx proxy_pass candidate
worker_processes 1;
worker_rlimit_nofile 19800;
daemon off;
pid ${join(dir, `${name}.pid`)};
error_log ${join(dir, `${name}.error.log`)} warn;
events { worker_connections 9600; }
http {
  access_log off;
  ${nginxTemps(dir, name)}
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
  upstream be { server 127.0.0.1:${target}; keepalive 64; keepalive_requests 1000000000; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`);
}

/** yoke \`mode: tls\` as issue 4 runs it: an SNI route to a pool, sticky TLS sessions, one real server. */
export function yokeTls(dir: string, name: string, port: number, target: number, sni: string): string {
  return write(dir, `${name}.yaml`, `# bench: yoke TLS passthrough candidate
services:
  - name: bench
    listen: 127.0.0.1:${port}
    mode: tls
    sticky:
      tls_session: true
    routes:
      - match: { sni: ${sni} }
        pool: web
      - pool: web
    pools:
      web:
        scheduler: rr
        servers:
          - address: 127.0.0.1:${target}
`);
}
