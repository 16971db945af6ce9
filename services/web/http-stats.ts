import * as hdr from 'hdr-histogram-js';

/** Latencies are kept in microseconds, up to a minute, with 2 significant digits (1 % resolution). */
const MAX_MICROS = 60_000_000;

/**
 * Requests of one pool or one real server of an HTTP service: counts by status class and an HDR histogram of the
 * time from the request head read to the last byte of the answer. Recorded once per request; read by the admin API.
 */
export class HttpStats {
  /** Answers by status class: [1xx, 2xx, 3xx, 4xx, 5xx]. */
  readonly classes = [0, 0, 0, 0, 0];
  readonly #latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_MICROS, numberOfSignificantValueDigits: 2 });

  record(status: number, micros: number): void {
    const c = Math.floor(status / 100) - 1;
    if (c >= 0 && c < 5) this.classes[c] = (this.classes[c] as number) + 1;
    this.#latency.recordValue(Math.min(Math.max(1, Math.round(micros)), MAX_MICROS));
  }

  toJSON(): { requests: Record<string, number>; latency_ms: Record<string, number> } {
    const h = this.#latency;
    const ms = (p: number) => Math.round(h.getValueAtPercentile(p)) / 1000;
    const [c1, c2, c3, c4, c5] = this.classes as [number, number, number, number, number];
    return {
      requests: { '1xx': c1, '2xx': c2, '3xx': c3, '4xx': c4, '5xx': c5 },
      latency_ms: { count: h.totalCount, p50: ms(50), p90: ms(90), p99: ms(99), p999: ms(99.9), max: Math.round(h.maxValue) / 1000 },
    };
  }
}

const stats = new WeakMap<object, HttpStats>();

/** The HTTP stats of a pool or server, made on first use. */
export function httpStats(of: object): HttpStats {
  let s = stats.get(of);
  if (s === undefined) { s = new HttpStats(); stats.set(of, s); }
  return s;
}

/** The HTTP stats of a pool or server, if it ever carried a request. */
export function httpStatsIfAny(of: object): HttpStats | undefined {
  return stats.get(of);
}
