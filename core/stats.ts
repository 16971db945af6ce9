/**
 * Counters and rate estimation as IPVS keeps them (ipvsadm --stats / --rate).
 * "in" is client -> real server, "out" is real server -> client. For the user-space proxy a "packet"
 * is one chunk read from a socket (one datagram for UDP), which is the closest thing it can see.
 */
export class Counters {
  conns = 0;
  inPkts = 0;
  outPkts = 0;
  inBytes = 0;
  outBytes = 0;
  /** Rates, per second, smoothed as IPVS's estimator does (EWMA with weight 1/4 over 2 s samples). */
  cps = 0;
  inPps = 0;
  outPps = 0;
  inBps = 0;
  outBps = 0;
  #last = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };

  /** Counts one chunk or datagram from a client, on the service's counters and its server's (data path). */
  static countIn(service: Counters, server: Counters, bytes: number): void {
    service.inPkts++;
    service.inBytes += bytes;
    server.inPkts++;
    server.inBytes += bytes;
  }

  /** Counts one chunk or datagram from a real server, on the service's counters and its server's (data path). */
  static countOut(service: Counters, server: Counters, bytes: number): void {
    service.outPkts++;
    service.outBytes += bytes;
    server.outPkts++;
    server.outBytes += bytes;
  }

  /** Folds the counts since the previous sample into the rates; `seconds` is the time since that sample. */
  sample(seconds: number): void {
    const l = this.#last;
    this.cps = smooth(this.cps, (this.conns - l.conns) / seconds);
    this.inPps = smooth(this.inPps, (this.inPkts - l.inPkts) / seconds);
    this.outPps = smooth(this.outPps, (this.outPkts - l.outPkts) / seconds);
    this.inBps = smooth(this.inBps, (this.inBytes - l.inBytes) / seconds);
    this.outBps = smooth(this.outBps, (this.outBytes - l.outBytes) / seconds);
    l.conns = this.conns;
    l.inPkts = this.inPkts;
    l.outPkts = this.outPkts;
    l.inBytes = this.inBytes;
    l.outBytes = this.outBytes;
  }

  /** A plain snapshot for the admin API. */
  toJSON(): CountersSnapshot {
    return {
      conns: this.conns, inPkts: this.inPkts, outPkts: this.outPkts, inBytes: this.inBytes, outBytes: this.outBytes,
      cps: round(this.cps), inPps: round(this.inPps), outPps: round(this.outPps), inBps: round(this.inBps), outBps: round(this.outBps),
    };
  }
}

export interface CountersSnapshot {
  conns: number; inPkts: number; outPkts: number; inBytes: number; outBytes: number;
  cps: number; inPps: number; outPps: number; inBps: number; outBps: number;
}

/** IPVS's estimator weight: avg = avg + (rate - avg) / 4, sampled every 2 s. */
function smooth(avg: number, rate: number): number {
  return avg + (rate - avg) / 4;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Samples every counter its source yields, on one coarse timer (one timer for all, never one per object). */
export class Estimator {
  readonly #source: () => Iterable<Counters>;
  #timer: NodeJS.Timeout | undefined;
  #lastAt = 0;
  readonly #intervalMs: number;
  readonly #now: () => number;

  constructor(source: () => Iterable<Counters>, intervalMs = 2000, now: () => number = Date.now) {
    this.#source = source;
    this.#intervalMs = intervalMs;
    this.#now = now;
    this.#lastAt = now(); // so a tick before start() measures from construction, not from the epoch
  }

  start(): void {
    if (this.#timer) return;
    this.#lastAt = this.#now();
    this.#timer = setInterval(() => this.tick(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Takes one sample of every counter (called by the timer; tests call it with a fake clock). */
  tick(): void {
    const now = this.#now();
    const seconds = Math.max((now - this.#lastAt) / 1000, 0.001);
    this.#lastAt = now;
    for (const c of this.#source()) c.sample(seconds);
  }
}
