import { YokeError } from '../errors.ts';
import { weightSpan } from './gcd.ts';
import { hashString } from './hash.ts';

/** The lookup table size IPVS mh uses by default, a prime (M in the Maglev paper). */
export const DEFAULT_MAGLEV_SIZE = 65521;
/** Seeds of the two server-id hashes that give each server its offset and skip (h1, h2 in the paper). */
const OFFSET_SEED = 0x2545f491;
const SKIP_SEED = 0x9e3779b9;
/** IPVS mh keeps turns per round below 2^6 by shifting big gcd-reduced weights down (IP_VS_MH_TAB_BITS). */
const TURN_BITS = 6;

/** A table member as Maglev sees it: a stable id to hash and a weight. RealServer fits. */
export interface MaglevMember {
  readonly id: string;
  readonly weight: number;
}

/** Where a member's preference list starts and its stride through a table of `size` slots (paper §3.4). */
export function maglevPreference(id: string, size: number): { offset: number; skip: number } {
  return { offset: hashString(id, OFFSET_SEED) % size, skip: (hashString(id, SKIP_SEED) % (size - 1)) + 1 };
}

/**
 * The Maglev populate loop: members take turns, each claiming its next still-empty preferred slot (offset, offset+skip,
 * ... mod size) `turns[i]` times per round, until the table is full. Slot = member index; all -1 if no member has turns.
 * `size` must be prime so every stride visits every slot.
 */
export function fillMaglevTable(offset: ArrayLike<number>, skip: ArrayLike<number>, turns: ArrayLike<number>, size: number): Int32Array {
  const table = new Int32Array(size).fill(-1);
  const n = turns.length;
  let any = false;
  for (let i = 0; i < n; i++) if (turns[i]! > 0) any = true;
  if (!any) return table;
  const next = Float64Array.from(offset);
  let filled = 0;
  for (;;) {
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < turns[i]!; t++) {
        let c = next[i]!;
        while (table[c] !== -1) {
          c += skip[i]!;
          if (c >= size) c -= size;
        }
        table[c] = i;
        next[i] = c;
        if (++filled === size) return table;
      }
    }
  }
}

/** Builds the Maglev lookup table for members (slot = index into members) with `size` slots, a prime; throws E_CONFIG_INVALID otherwise. */
export function buildMaglevTable(members: readonly MaglevMember[], size: number = DEFAULT_MAGLEV_SIZE): Int32Array {
  checkMaglevSize(size);
  const n = members.length;
  const offset = new Float64Array(n);
  const skip = new Float64Array(n);
  const turns = new Float64Array(n);
  // Weights as IPVS mh: divided by their gcd, then shifted right until the largest fits in TURN_BITS bits, so a
  // weight of 1000 next to 1 does not make one round take a thousand slots; any weight > 0 keeps at least 1 turn.
  const { gcd, max } = weightSpan(members);
  const shift = gcd > 0 ? Math.max(0, bitLength(Math.floor(max / gcd)) - TURN_BITS) : 0;
  for (let i = 0; i < n; i++) {
    const m = members[i]!;
    const p = maglevPreference(m.id, size);
    offset[i] = p.offset;
    skip[i] = p.skip;
    turns[i] = m.weight > 0 ? Math.max(1, Math.floor(m.weight / gcd) >> shift) : 0;
  }
  return fillMaglevTable(offset, skip, turns, size);
}

/** Throws E_CONFIG_INVALID unless size is a prime: with another size some strides would not visit every slot. */
export function checkMaglevSize(size: number): void {
  if (!isPrime(size)) throw new YokeError('E_CONFIG_INVALID', `mh table size ${size} is not a prime (IPVS uses 65521; others: 251, 1021, 4093, 16381, 131071)`);
}

/** Number of bits needed to write n (fls in the kernel). */
function bitLength(n: number): number {
  return n <= 0 ? 0 : 32 - Math.clz32(n);
}

/** Trial division: table sizes are at most a few million, so this is instant. */
function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}
