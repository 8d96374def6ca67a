/** A seeded random source for tests and benchmarks. */

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with the same seed. */
export class Rng {
  #state: number;
  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  /** A bigint in [0, max]. */
  big(max: bigint): bigint {
    let n = 0n;
    for (let i = 0; i < 4; i++) n = (n << 32n) | BigInt(Math.floor(this.next() * 4294967296));
    return n % (max + 1n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}
