/** What the table needs of an entry: the place it was given (owned by the table; undefined = not in it). */
export interface Tabled {
  tableIndex?: number | undefined;
}

/**
 * A service's connection table: add, delete and size in O(1) on a plain array (an entry leaving takes the last
 * one's place). A Set did the same job, but with thousands of connections opened and closed per second it kept
 * V8's young generation from dying young: a quarter of what a new connection allocated survived each scavenge
 * (6 % with this table), and the scavenges grew to 25–35 ms (bench/RESULTS.md, "Garbage collection per new
 * connection"). Iteration walks a copy, so entries may close (and leave) while it runs.
 */
export class ConnectionTable<T extends Tabled> implements Iterable<T> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  add(entry: T): void {
    if (entry.tableIndex !== undefined) return;
    entry.tableIndex = this.#items.length;
    this.#items.push(entry);
  }

  has(entry: T): boolean {
    const i = entry.tableIndex;
    return i !== undefined && this.#items[i] === entry;
  }

  /** Takes an entry out; false when it was not in this table. */
  delete(entry: T): boolean {
    const i = entry.tableIndex;
    if (i === undefined || this.#items[i] !== entry) return false;
    const last = this.#items.pop() as T;
    if (last !== entry) { this.#items[i] = last; last.tableIndex = i; }
    entry.tableIndex = undefined;
    return true;
  }

  [Symbol.iterator](): Iterator<T> {
    return this.#items.slice()[Symbol.iterator]();
  }
}
