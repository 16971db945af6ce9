/**
 * String hashing for the hashing schedulers (sh, dh, mh) and their fallbacks. Keys are strings (an IP, a URL,
 * a user), so the hash walks UTF-16 code units with charCodeAt: no encoding, no allocation.
 *
 * Results are 30-bit: V8 keeps integers below 2^30 unboxed (Smi), while a full uint32 above that becomes a heap
 * number whenever it crosses a call that is not inlined, one allocation per pick. 30 bits index tables of millions.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** 2^32 / golden ratio: spreads small integers (ports, probe numbers) over all 32 bits before mixing. */
const GOLDEN = 0x9e3779b9;

/** Largest hash + 1. */
export const HASH_RANGE = 2 ** 30;

/** murmur3's 32-bit finaliser, low 30 bits: every input bit flips each output bit with probability ~1/2. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & (HASH_RANGE - 1);
}

/** FNV-1a over a string's code units, finished with fmix32; `seed` gives an independent hash (Maglev needs two). 30 bits. */
export function hashString(s: string, seed = 0): number {
  // FNV-1a alone leaves the low bits of similar keys (10.0.0.1, 10.0.0.2) correlated; fmix32 fixes that.
  let h = FNV_OFFSET ^ fmix32(seed);
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return fmix32(h);
}

/** Folds a small integer (a client port, a probe number) into a hash; 30 bits. */
export function mixInt(h: number, n: number): number {
  return fmix32(h ^ Math.imul(n + 1, GOLDEN));
}
