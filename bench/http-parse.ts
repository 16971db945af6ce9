// Micro-benchmark of the HTTP/1.1 request codec (l7/http): ns per parsed head for a typical browser request,
// head parse alone and head + framing, plus a chunked body decode. Run: node bench/http-parse.ts
// Not measured: socket reads, buffer management, routing. Node's own parser (llhttp) is not compared:
// process.binding('http_parser') is gone in Node 24 and reaching it needs --expose-internals.
import { cpus } from 'node:os';
import { ChunkedDecoder } from '../l7/http/chunked.ts';
import { requestFraming } from '../l7/http/framing.ts';
import { RequestHeadParser } from '../l7/http/request-head.ts';

const BROWSER = Buffer.from([
  'GET /assets/app.3f9c2a.js?v=20240611 HTTP/1.1',
  'Host: shop.example.com',
  'Connection: keep-alive',
  'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
  'sec-ch-ua-mobile: ?0',
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'sec-ch-ua-platform: "Linux"',
  'Accept: */*',
  'Sec-Fetch-Site: same-origin',
  'Sec-Fetch-Mode: no-cors',
  'Sec-Fetch-Dest: script',
  'Referer: https://shop.example.com/catalog/shoes?page=2',
  'Accept-Encoding: gzip, deflate, br, zstd',
  'Accept-Language: en-GB,en-US;q=0.9,en;q=0.8',
  'Cookie: SERVERID=s3; session=9f8e7d6c5b4a39281706f5e4d3c2b1a0; _ga=GA1.1.123456789.1700000000',
  '', '',
].join('\r\n'), 'latin1');

const CHUNKED = Buffer.concat([...Array.from({ length: 16 }, () => Buffer.from(`400\r\n${'x'.repeat(1024)}\r\n`)), Buffer.from('0\r\n\r\n')]);

function bench(name: string, bytes: number, fn: () => void): void {
  for (let i = 0; i < 200_000; i++) fn();
  const rounds = 5;
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const n = 1_000_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    results.push(Number(process.hrtime.bigint() - t0) / n);
  }
  results.sort((a, b) => a - b);
  const ns = results[Math.floor(rounds / 2)] as number;
  console.log(`${name.padEnd(44)} ${ns.toFixed(0).padStart(6)} ns/op  ${(bytes / ns).toFixed(2)} GB/s  (median of ${rounds})`);
}

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'cpu?'}, browser head ${BROWSER.length} bytes, 15 fields`);
const parser = new RequestHeadParser();
let sink = 0;
bench('head parse (offsets only)', BROWSER.length, () => {
  parser.reset();
  const r = parser.parse(BROWSER);
  if (r.kind === 'head') sink += r.head.consumed;
});
bench('head parse + framing', BROWSER.length, () => {
  parser.reset();
  const r = parser.parse(BROWSER);
  if (r.kind === 'head') { const f = requestFraming(r.head); if (f.kind === 'framing') sink += f.length; }
});
bench('head + framing + method/target/host/cookie', BROWSER.length, () => {
  parser.reset();
  const r = parser.parse(BROWSER);
  if (r.kind === 'head') {
    const f = requestFraming(r.head);
    sink += r.head.method.length + r.head.target.length + r.head.authority.length + (r.head.get('cookie')?.length ?? 0) + (f.kind === 'framing' ? 1 : 0);
  }
});
const decoder = new ChunkedDecoder();
bench('chunked decode, 16 x 1 KiB chunks', CHUNKED.length, () => {
  decoder.reset();
  const r = decoder.decode(CHUNKED);
  if (r.kind === 'done') sink += r.next;
});
if (sink === 42) console.log('');
