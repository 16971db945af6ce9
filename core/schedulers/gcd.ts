/** Greatest common divisor of two non-negative integers; gcd(0, b) = b, so it folds over a list from 0. */
export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** gcd and maximum of the positive weights in a list (0 and 0 when none): wrr's step and top, mh's turn unit. */
export function weightSpan(list: readonly { readonly weight: number }[]): { gcd: number; max: number } {
  let g = 0;
  let max = 0;
  for (const { weight } of list) {
    if (weight <= 0) continue;
    g = gcd(weight, g);
    if (weight > max) max = weight;
  }
  return { gcd: g, max };
}
