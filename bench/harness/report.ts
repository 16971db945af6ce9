// Medians over rounds and markdown tables.

/** One candidate's numbers in one round (NaN where a number does not apply, e.g. proxy CPU for direct). */
export type Row = Record<string, number>;

/** A scenario's finished section: markdown, plus the raw rounds for the JSON file. */
export interface Section {
  readonly id: string;
  readonly markdown: string;
  readonly raw: Readonly<Record<string, unknown>>;
}

export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Per-key medians of a candidate's rounds. */
export function medians(rows: readonly Row[]): Row {
  const keys = new Set(rows.flatMap((r) => Object.keys(r)));
  const out: Row = {};
  for (const k of keys) out[k] = median(rows.map((r) => r[k] ?? NaN));
  return out;
}

/** Formats a number with about 3 significant digits; '–' when it does not apply. */
export function fmt(x: number | undefined, digits = 3): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  // From 10^digits - 0.5 up, toPrecision would switch to exponent notation ("1.00e+3").
  if (abs >= 10 ** digits - 0.5) return Math.round(x).toLocaleString('en-US');
  return x.toPrecision(digits).replace(/\.?0+$/, (m) => (m.includes('.') ? '' : m));
}

/** A ratio a÷b written as "1.23×", or '–'. */
export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '–';
  return `${(a / b).toFixed(2)}×`;
}

export interface Column {
  readonly title: string;
  readonly cell: (m: Row, name: string) => string;
}

/** A candidate's rounds of one figure, e.g. "13.8 / 52.7 / 15.3": shows the spread behind a median. */
export function byRound(rows: readonly Row[] | undefined, key: string): string {
  const xs = (rows ?? []).map((r) => r[key] ?? NaN);
  return xs.some((x) => Number.isFinite(x)) ? xs.map((x) => fmt(x)).join(' / ') : '–';
}

/** A markdown table: one line per candidate, cells from its medians. */
export function table(columns: readonly Column[], meds: ReadonlyMap<string, Row>): string {
  const lines = [
    `| candidate | ${columns.map((c) => c.title).join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
  ];
  for (const [name, m] of meds) lines.push(`| ${name} | ${columns.map((c) => c.cell(m, name)).join(' | ')} |`);
  return lines.join('\n');
}

/**
 * The columns every load table shares: a rate, wrk-style latency percentiles, the proxy's CPU and its cost per unit
 * (`cost`, e.g. cpu_us_per_req), that cost ÷ HAProxy's (`ha`, its medians) and by round.
 */
export function loadColumns(raw: Readonly<Record<string, readonly Row[]>>, ha: Row | undefined, o: { rate: string; rateTitle: string; cost: string; unit: string }): Column[] {
  return [
    { title: o.rateTitle, cell: (m) => fmt(m[o.rate]) },
    { title: 'p50 ms', cell: (m) => fmt(m.p50_ms) },
    { title: 'p99 ms', cell: (m) => fmt(m.p99_ms) },
    { title: 'p99.9 ms', cell: (m) => fmt(m.p999_ms) },
    { title: 'proxy CPU %', cell: (m) => fmt(m.proxy_cpu_pct) },
    { title: `CPU µs/${o.unit}`, cell: (m) => fmt(m[o.cost]) },
    { title: `CPU/${o.unit} ÷ HAProxy`, cell: (m) => ratio(m[o.cost], ha?.[o.cost]) },
    { title: `CPU µs/${o.unit} by round`, cell: (_m, name) => byRound(raw[name], o.cost) },
  ];
}
