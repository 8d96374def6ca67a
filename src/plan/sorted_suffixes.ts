/** Sums of the r smallest and r largest of a list of bigints, per suffix: the count bounds of the planner's searches. */

const cmp = (x: bigint, y: bigint): number => (x < y ? -1 : x > y ? 1 : 0);

/** Per suffix j.. of a list of values: sums of its r smallest values, built on first use (O(n) each). */
export class SortedSuffixes {
  private readonly order: number[];
  private readonly sums: bigint[][] = [];
  private readonly negatives: number[] = [];

  constructor(private readonly values: readonly bigint[]) {
    this.order = values.map((_, p) => p).sort((p, q) => cmp(values[p]!, values[q]!));
  }

  /** sums(j)[r] = sum of the r smallest values of j.. */
  private ascending(j: number): bigint[] {
    let sums = this.sums[j];
    if (!sums) {
      let total = 0n;
      let negatives = 0;
      sums = [0n];
      for (const p of this.order) {
        if (p < j) continue;
        const v = this.values[p]!;
        if (v < 0n) negatives++;
        sums.push((total += v));
      }
      this.sums[j] = sums;
      this.negatives[j] = negatives;
    }
    return sums;
  }

  /** Whether some r values of j.. may sum to exactly `value`: it lies between the sums of the r smallest and the r largest. */
  spans(j: number, r: number, value: bigint): boolean {
    const sums = this.ascending(j);
    const len = sums.length - 1;
    return r <= len && sums[r]! <= value && value <= sums[len]! - sums[len - r]!;
  }

  /** The most values of j.. whose sum is at most cap (values non-negative). */
  mostWithin(j: number, cap: bigint): number {
    const sums = this.ascending(j);
    let lo = 0;
    let hi = sums.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (sums[mid]! <= cap) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The fewest values of j.. whose sum reaches need (one more than there are when none does; values non-negative). */
  fewestReaching(j: number, need: bigint): number {
    const sums = this.ascending(j);
    const len = sums.length - 1;
    // the r largest sum to total - sums[len - r]
    const rest = sums[len]! - need;
    if (rest < 0n) return len + 1;
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
    // smallest(r) = sums[r] falls until neg, then rises
    if (sums[neg]! > hi) return false;
    rMin = Math.max(rMin, firstTrue(0, neg, (r) => sums[r]! <= hi));
    rMax = Math.min(rMax, firstTrue(neg, len + 1, (r) => sums[r]! > hi) - 1);
    // largest(r) = total - sums[len - r] rises until len - neg, then falls
    const room = sums[len]! - lo;
    const peak = len - neg;
    if (sums[neg]! > room) return false;
    rMin = Math.max(rMin, firstTrue(0, peak, (r) => sums[len - r]! <= room));
    rMax = Math.min(rMax, firstTrue(peak, len + 1, (r) => sums[len - r]! > room) - 1);
    return rMin <= rMax;
  }

  /** The smallest sum of r values of j.. over rMin <= r <= rMax. */
  smallestSum(j: number, rMin: number, rMax: number): bigint {
    const sums = this.ascending(j);
    // the sums fall while the values are negative, then rise
    return sums[Math.min(Math.max(this.negatives[j]!, rMin), rMax)]!;
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

