/** Sums of the r smallest and r largest of a list of bigints, per suffix: the count bounds of the planner's searches. */

const cmp = (x: bigint, y: bigint): number => (x < y ? -1 : x > y ? 1 : 0);

/**
 * Per suffix j.. of a list of values: sums of its r smallest values, built on first use (O(n) each). They only
 * ever prune, so they are kept in floating point and every test leans towards "possible" by more than the
 * rounding could have moved it: exact when all the sums fit in 2^52, a hair weaker than exact beyond. This keeps
 * the tests that run at every node of the search off bigint arithmetic.
 */
export class SortedSuffixes {
  private readonly order: number[];
  private readonly floats: Float64Array;
  private readonly sums: Float64Array[] = [];
  private readonly negatives: number[] = [];
  /** A bound on the rounding error of a sum or of a value compared with one (0 when exact). */
  private readonly error: number;

  constructor(values: readonly bigint[]) {
    this.order = values.map((_, p) => p).sort((p, q) => cmp(values[p]!, values[q]!));
    this.floats = Float64Array.from(values, Number);
    const size = values.reduce((sum, v) => sum + (v < 0n ? -v : v), 0n);
    // each of up to n additions rounds by at most 2^-53 of the sum of magnitudes, each conversion as much
    this.error = size <= 2n ** 52n ? 0 : (values.length + 2) * 2 ** -52 * Number(size);
  }

  /** sums(j)[r] = sum of the r smallest values of j.. */
  private ascending(j: number): Float64Array {
    let sums = this.sums[j];
    if (!sums) {
      sums = new Float64Array(this.floats.length - j + 1);
      let r = 0;
      let negatives = 0;
      for (const p of this.order) {
        if (p < j) continue;
        const v = this.floats[p]!;
        if (v < 0) negatives++;
        sums[r + 1] = sums[r]! + v;
        r++;
      }
      this.sums[j] = sums;
      this.negatives[j] = negatives;
    }
    return sums;
  }

  /**
   * x for comparing with the sums: exact when they are (beyond 2^53 it compares as 2^53, as every sum is
   * smaller); otherwise moved by the error bound and its own rounding towards `side`.
   */
  private lenient(x: bigint, side: 1 | -1): number {
    const f = Number(x);
    if (this.error > 0) return f + side * (this.error + 2 ** -52 * Math.abs(f));
    return Math.max(-(2 ** 53), Math.min(2 ** 53, f));
  }

  /**
   * Whether some r values of j.. may sum to exactly `value`: it lies between the sums of the r smallest and
   * the r largest (leaning towards yes, like the rest).
   */
  spans(j: number, r: number, value: bigint): boolean {
    const sums = this.ascending(j);
    const len = sums.length - 1;
    return r <= len && sums[r]! <= this.lenient(value, 1) && sums[len - r]! <= sums[len]! - this.lenient(value, -1);
  }

  /** The most values of j.. whose sum is at most cap, or more (values non-negative). */
  mostWithin(j: number, cap: bigint): number {
    const sums = this.ascending(j);
    const capF = this.lenient(cap, 1);
    let lo = 0;
    let hi = sums.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (sums[mid]! <= capF) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The fewest values of j.. whose sum reaches need, or fewer (one more than there are when none does; values non-negative). */
  fewestReaching(j: number, need: bigint): number {
    const sums = this.ascending(j);
    const len = sums.length - 1;
    // the r largest sum to total - sums[len - r]
    const rest = sums[len]! - this.lenient(need, -1);
    if (rest < 0) return len + 1;
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sums[len - mid]! <= rest) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * Whether for some r in [rMin, rMax] a sum of r values of j.. may lie in [lo, hi]: the r smallest sum to at
   * most hi and the r largest to at least lo.
   */
  someCount(j: number, lo: bigint, hi: bigint, rMin: number, rMax: number): boolean {
    if (lo > hi) return false;
    const sums = this.ascending(j);
    const len = sums.length - 1;
    const neg = this.negatives[j]!;
    const top = this.lenient(hi, 1);
    // smallest(r) = sums[r] falls until neg, then rises
    if (sums[neg]! > top) return false;
    rMin = Math.max(rMin, firstTrue(0, neg, (r) => sums[r]! <= top));
    rMax = Math.min(rMax, firstTrue(neg, len + 1, (r) => sums[r]! > top) - 1);
    // largest(r) = total - sums[len - r] rises until len - neg, then falls
    const room = sums[len]! - this.lenient(lo, -1);
    const peak = len - neg;
    if (sums[neg]! > room) return false;
    rMin = Math.max(rMin, firstTrue(0, peak, (r) => sums[len - r]! <= room));
    rMax = Math.min(rMax, firstTrue(peak, len + 1, (r) => sums[len - r]! > room) - 1);
    return rMin <= rMax;
  }

  /** The smallest sum of r values of j.. over rMin <= r <= rMax, or less. */
  smallestSum(j: number, rMin: number, rMax: number): number {
    const sums = this.ascending(j);
    // the sums fall while the values are negative, then rise
    return sums[Math.min(Math.max(this.negatives[j]!, rMin), rMax)]! - this.error;
  }
}

/** The least x in [lo, hi) with test(x), or hi; test must be false then true. */
function firstTrue(lo: number, hi: number, test: (x: number) => boolean): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (test(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
