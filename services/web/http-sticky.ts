import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import type { VirtualService } from '../../core/service.ts';
import type { CookieStickySpec } from '../../core/spec.ts';
import {
  MemoryLearnTable, makeTokens, stickyInsert, stickyLearn, stickyPrefix, stickyRewrite, type LearnTable, type Sticky,
} from '../../l7/http/sticky.ts';

/** Learned application sessions kept per pool at most (the oldest unused go first). */
const LEARN_MAX_ENTRIES = 100_000;
/** Bytes of a learned session value kept (longer values are compared by this prefix). */
const LEARN_MAX_VALUE = 256;

interface Built {
  /** The settings as text: a reload makes new spec objects, and equal settings must keep the learned sessions. */
  readonly key: string;
  readonly spec: CookieStickySpec;
  readonly generation: number;
  readonly sticky: Sticky;
  readonly table: LearnTable | undefined;
}

/**
 * The cookie stickiness of each pool of an HTTP service, built from the pool's settings and rebuilt when its server
 * set changes (the opaque tokens name servers). Without a configured secret the tokens come from a key made at
 * start: stable while yoke runs, new after a restart (each client then moves once, and gets a new cookie).
 */
export class PoolStickiness {
  readonly #secret = randomBytes(32);
  readonly #clock: Clock;
  readonly #built = new WeakMap<VirtualService, Built>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The pool's cookie stickiness, or undefined when it has none. */
  of(pool: VirtualService): Sticky | undefined {
    const spec = pool.spec.sticky?.cookie;
    if (spec === undefined) return undefined;
    const b = this.#built.get(pool);
    if (b !== undefined && b.spec === spec && (spec.mode === 'learn' || b.generation === pool.generation)) return b.sticky;
    const key = JSON.stringify(spec);
    const built = this.#build(pool, spec, key, b?.key === key ? b.table : undefined);
    this.#built.set(pool, built);
    return built.sticky;
  }

  #build(pool: VirtualService, spec: CookieStickySpec, key: string, table: LearnTable | undefined): Built {
    const generation = pool.generation;
    if (spec.mode === 'learn') {
      const t = table ?? new MemoryLearnTable({ timeoutMs: pool.spec.sticky?.timeoutMs ?? 600_000, maxEntries: LEARN_MAX_ENTRIES, maxValueLength: LEARN_MAX_VALUE }, this.#clock);
      return { key, spec, generation, table: t, sticky: stickyLearn({ name: spec.name }, t) };
    }
    const secret = spec.secret === undefined ? this.#secret : Buffer.from(spec.secret);
    const tokens = makeTokens(secret, pool.servers.map((s) => s.id), pool.name);
    const sticky = spec.mode === 'insert'
      ? stickyInsert({
        name: spec.name, path: '/', httpOnly: spec.httpOnly, secure: spec.secure, sameSite: spec.sameSite,
        maxAgeSec: spec.maxAgeMs === undefined ? undefined : Math.round(spec.maxAgeMs / 1000),
      }, tokens)
      : spec.mode === 'rewrite' ? stickyRewrite(spec.name, tokens) : stickyPrefix(spec.name, tokens);
    return { key, spec, generation, table: undefined, sticky };
  }
}
