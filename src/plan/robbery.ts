/** The robbery planner: the set of banks reaching a target amount that hurts the fewest clients. */

/** One bank as the planner sees it: its code, the money it holds and how many clients it has. */
export interface BankTotals {
  code: string;
  amount: bigint;
  clients: bigint;
}

/** A plan: the banks to rob and their totals, or, when the network holds too little, the whole network's totals. */
export type RobberyPlan =
  | { reachable: true; target: bigint; banks: BankTotals[]; amount: bigint; clients: bigint }
  | { reachable: false; target: bigint; amount: bigint; clients: bigint };

interface Item {
  readonly index: number;
  readonly clients: bigint;
  readonly amount: bigint;
}

interface Solution {
  clients: bigint;
  amount: bigint;
  positions: number[];
}

const cmp = (x: bigint, y: bigint): number => (x < y ? -1 : x > y ? 1 : 0);

/** floor(x / y) for y != 0 (BigInt division truncates toward zero). */
function floorDiv(x: bigint, y: bigint): bigint {
  const q = x / y;
  return q * y !== x && (x < 0n) !== (y < 0n) ? q - 1n : q;
}

/** ceil(x / y) for y != 0. */
function ceilDiv(x: bigint, y: bigint): bigint {
  return -floorDiv(-x, y);
}

/** Best amount per client first (clients 0 count as infinitely good); identical banks end up adjacent. */
function byRatio(x: Item, y: Item): number {
  return cmp(y.amount * x.clients, x.amount * y.clients) || cmp(x.clients, y.clients) || cmp(y.amount, x.amount) || x.index - y.index;
}

/**
 * Exact search for the lexicographically smallest (clients, amount, banks) cover of the target.
 *
 * Items are sorted by amount per client, so the banks still undecided at depth j are a suffix; every bound
 * below is a relaxation over that suffix, computed exactly in bigint. The amounts are also written as
 * amount = slope * clients + e with e in [eLo, eHi]: for strongly correlated networks that range is tiny,
 * which gives a count-based bound and, once the clients are fixed, pins the amount to a lattice.
 */
class Search {
  private readonly m: number;
  private readonly prefClients: bigint[] = [0n];
  private readonly prefAmount: bigint[] = [0n];
  private readonly eLo: bigint[];
  private readonly maxAmount: bigint[];
  private readonly eHi: bigint[];
  private readonly clients: SortedSuffixes;
  private readonly nextDistinct: number[];
  private readonly slope: bigint;
  private readonly stack: number[] = [];
  private nuN = 0n;
  private nuD = 1n;
  private lagrange: SortedSuffixes;
  best: Solution;
  private budget = 0n;
  private low = 0n;
  private skipFirst = true;
  private bestCount = 0;
  nodes = 0;

  constructor(
    private readonly items: readonly Item[],
    private readonly target: bigint,
  ) {
    const m = (this.m = items.length);
    for (const it of items) {
      this.prefClients.push(this.prefClients.at(-1)! + it.clients);
      this.prefAmount.push(this.prefAmount.at(-1)! + it.amount);
    }
    this.slope = fitSlope(items);
    this.clients = new SortedSuffixes(items.map((it) => it.clients));
    this.eLo = new Array<bigint>(m + 1).fill(0n);
    this.maxAmount = new Array<bigint>(m + 1).fill(0n);
    this.eHi = new Array<bigint>(m + 1).fill(0n);
    this.nextDistinct = new Array<number>(m).fill(m);
    for (let j = m - 1; j >= 0; j--) {
      const it = items[j]!;
      const e = it.amount - this.slope * it.clients;
      const last = j === m - 1;
      this.maxAmount[j] = last || it.amount > this.maxAmount[j + 1]! ? it.amount : this.maxAmount[j + 1]!;
      this.eLo[j] = last || e < this.eLo[j + 1]! ? e : this.eLo[j + 1]!;
      this.eHi[j] = last || e > this.eHi[j + 1]! ? e : this.eHi[j + 1]!;
      const next = items[j + 1];
      this.nextDistinct[j] = next && next.clients === it.clients && next.amount === it.amount ? this.nextDistinct[j + 1]! : j + 1;
    }
    this.lagrange = this.clients;
    this.best = this.greedy();
    this.bestCount = this.best.positions.length;
  }

  /**
   * Picks nu >= 0 for the Lagrangian bound clients(R) >= nu*amount(R) + sum(clients - nu*amount over R), where the
   * last sum is at least the smallest sum of |R| such values and |R| is bounded by the count relaxations. nu is
   * tuned in floating point at the root (any nu is sound) and then used exactly as N/D.
   */
  private tuneMultiplier(): void {
    const rMin = Number(ceilDiv(this.target, this.maxAmount[0]!));
    const rMax = this.clients.mostWithin(0, this.budget);
    const c = Float64Array.from(this.items, (it) => Number(it.clients));
    const a = Float64Array.from(this.items, (it) => Number(it.amount));
    const t = Number(this.target);
    const v = new Float64Array(this.m);
    const bound = (nu: number): number => {
      for (let i = 0; i < this.m; i++) v[i] = c[i]! - nu * a[i]!;
      v.sort();
      let sum = 0;
      let best = Infinity;
      for (let r = 1; r <= rMax; r++) {
        sum += v[r - 1]!;
        if (r >= rMin && sum < best) best = sum;
      }
      return nu * t + (rMin === 0 ? Math.min(0, best) : best);
    };
    // the bound is concave in nu: double past its peak, then narrow down
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < this.m; i++) hi = Math.max(hi, (c[i]! + 1) / a[i]!);
    for (let step = 0; step < 128 && bound(2 * hi) >= bound(hi); step++) hi *= 2;
    hi *= 2;
    for (let step = 0; step < 100 && lo < hi; step++) {
      const m1 = lo + (hi - lo) / 3;
      const m2 = hi - (hi - lo) / 3;
      if (bound(m1) < bound(m2)) lo = m1;
      else hi = m2;
    }
    [this.nuN, this.nuD] = toRational(lo);
    if (process.env.RDEBUG === "2") console.error("nu", lo, "bound", bound(lo), "bound0", bound(0), "rMin", rMin, "rMax", rMax, "budget", this.budget);
    this.lagrange = new SortedSuffixes(this.items.map((it) => this.nuD * it.clients - this.nuN * it.amount));
  }

  /** Take banks in ratio order until the target is met. */
  private greedy(): Solution {
    let j = 0;
    while (this.prefAmount[j]! < this.target) j++;
    return { clients: this.prefClients[j]!, amount: this.prefAmount[j]!, positions: Array.from({ length: j }, (_, i) => i) };
  }

  /** Whether the LP relaxation over the suffix j.. reaches `need` more money within `cap` clients. */
  private lpReaches(j: number, cap: bigint, need: bigint): boolean {
    const base = this.prefClients[j]!;
    let lo = j;
    let hi = this.m;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.prefClients[mid]! - base <= cap) lo = mid;
      else hi = mid - 1;
    }
    const full = this.prefAmount[lo]! - this.prefAmount[j]!;
    if (full >= need) return true;
    if (lo === this.m) return false;
    const it = this.items[lo]!;
    return (need - full) * it.clients <= (cap - (this.prefClients[lo]! - base)) * it.amount;
  }

  /**
   * Count range [rMin, rMax] for the banks still to take from j.. so that `need` more money fits in `cap`
   * clients and brings at least `low` clients, or undefined when even the relaxations fail.
   */
  private counts(j: number, cap: bigint, need: bigint, low: bigint): [bigint, bigint] | undefined {
    if (cap < 0n || j === this.m || !this.lpReaches(j, cap, need)) return undefined;
    const rMax = this.clients.mostWithin(j, cap);
    let rMin = Number(ceilDiv(need, this.maxAmount[j]!));
    if (low > 0n) rMin = Math.max(rMin, this.clients.fewestReaching(j, low));
    if (rMin > rMax || (this.nuD * cap < this.nuN * need + this.lagrange.smallestSum(j, rMin, rMax))) return undefined;
    return [BigInt(rMin), BigInt(rMax)];
  }

  /**
   * Pass 1: the fewest clients. Searches windows [low, top] of client totals upwards from the root bound, each
   * twice as wide as the last: covers are usually found at the bound, and a narrow window prunes hard.
   */
  minimiseClients(): void {
    this.budget = this.best.clients - 1n;
    if (this.budget < 0n) return;
    this.tuneMultiplier();
    const ceiling = this.budget;
    for (let width = 0n, low = this.rootBound(ceiling); low <= ceiling; width = 2n * width + 1n) {
      this.low = low;
      this.budget = min(low + width, ceiling);
      const before = this.best;
      this.dfs(0, 0n, 0n, (j, c, a) => this.clientsCanImprove(j, c, a), (c, a) => this.improveClients(c, a));
      if (this.best !== before) return;
      low = this.budget + 1n;
    }
  }

  /** The least client total that passes the root's relaxations (bounds are monotone in the budget). */
  private rootBound(ceiling: bigint): bigint {
    let lo = 0n;
    let hi = ceiling + 1n;
    while (lo < hi) {
      this.budget = (lo + hi) / 2n;
      if (this.clientsCanImprove(0, 0n, 0n)) hi = this.budget;
      else lo = this.budget + 1n;
    }
    return lo;
  }

  /** The rest brings slope*clients + (r values of e) with clients <= cap: that must reach the need. */
  private clientsCanImprove(j: number, c: bigint, a: bigint): boolean {
    const cap = this.budget - c;
    const need = this.target - a;
    const counts = this.counts(j, cap, need, this.low - c);
    return counts !== undefined;
  }

  private improveClients(c: bigint, a: bigint): void {
    this.best = { clients: c, amount: a, positions: [...this.stack] };
    this.bestCount = this.stack.length;
    this.budget = c - 1n;
  }

  /** Pass 2: with the clients fixed at the minimum, the least amount, then the fewest banks. */
  minimiseAmount(): void {
    this.budget = this.best.clients;
    this.skipFirst = true;
    this.dfs(0, 0n, 0n, (j, c, a) => this.amountCanImprove(j, c, a), (c, a) => this.improveAmount(c, a));
  }

  private improveAmount(c: bigint, a: bigint): void {
    const k = this.stack.length;
    if (a < this.best.amount || (a === this.best.amount && k < this.bestCount)) {
      this.best = { clients: c, amount: a, positions: [...this.stack] };
      this.bestCount = k;
    }
  }

  /**
   * Any cover with the minimum clients has exactly that many, so the rest must add exactly `cap` clients and
   * its money is slope*cap + (r values of e): that must land in [target, best amount].
   */
  private amountCanImprove(j: number, c: bigint, a: bigint): boolean {
    const cap = this.budget - c;
    const need = this.target - a;
    const counts = this.counts(j, cap, need, cap);
    if (!counts) return false;
    const [rMin, rMax] = counts;
    const lo = need - this.slope * cap;
    const hi = this.best.amount - a - this.slope * cap;
    const split = BigInt(this.bestCount - this.stack.length);
    // fewer banks may tie on amount; as many or more must beat it
    return (
      latticeHit(this.eLo[j]!, this.eHi[j]!, lo, hi, rMin, split - 1n < rMax ? split - 1n : rMax) ||
      latticeHit(this.eLo[j]!, this.eHi[j]!, lo, hi - 1n, split > rMin ? split : rMin, rMax)
    );
  }

  /** Take-first depth-first search over the ratio order; `promising` prunes, `found` sees every cover. */
  private dfs(j: number, c: bigint, a: bigint, promising: (j: number, c: bigint, a: bigint) => boolean, found: (c: bigint, a: bigint) => void): void {
    this.nodes++;
    if (a >= this.target) {
      found(c, a);
      return;
    }
    if (!promising(j, c, a)) return;
    if (this.skipFirst) this.dfs(this.nextDistinct[j]!, c, a, promising, found);
    const it = this.items[j]!;
    if (c + it.clients <= this.budget) {
      this.stack.push(j);
      this.dfs(j + 1, c + it.clients, a + it.amount, promising, found);
      this.stack.pop();
    }
    if (!this.skipFirst) this.dfs(this.nextDistinct[j]!, c, a, promising, found);
  }
}

/** For each suffix j.. of a list of non-negative values: how many of them fit under a cap, how few reach a need. */
class SortedSuffixes {
  private readonly order: number[];
  private readonly sums: bigint[][] = [];

  constructor(private readonly values: readonly bigint[]) {
    this.order = values.map((_, p) => p).sort((p, q) => cmp(values[p]!, values[q]!));
  }

  /** Prefix sums of the suffix's values in increasing order. */
  private ascending(j: number): bigint[] {
    let sums = this.sums[j];
    if (!sums) {
      let total = 0n;
      sums = [0n];
      for (const p of this.order) if (p >= j) sums.push((total += this.values[p]!));
      this.sums[j] = sums;
    }
    return sums;
  }

  /** The most values of j.. whose sum is at most cap. */
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

  /** The smallest sum of r values of j.. over rMin <= r <= rMax (values may be negative). */
  smallestSum(j: number, rMin: number, rMax: number): bigint {
    const sums = this.ascending(j);
    let lo = 0;
    let hi = sums.length - 1;
    // the sums fall while the sorted values are negative
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (sums[mid]! < sums[mid - 1]!) lo = mid;
      else hi = mid - 1;
    }
    return sums[Math.min(Math.max(lo, rMin), rMax)]!;
  }

  /** The fewest values of j.. whose sum reaches need (one more than there are when none does). */
  fewestReaching(j: number, need: bigint): number {
    const sums = this.ascending(j);
    const len = sums.length - 1;
    const total = sums[len]!;
    if (total < need) return len + 1;
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (total - sums[len - mid]! >= need) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Whether some r in [rMin, rMax] has [eLo*r, eHi*r] meeting [lo, hi] (hi undefined: unbounded). */
function latticeHit(eLo: bigint, eHi: bigint, lo: bigint, hi: bigint | undefined, rMin: bigint, rMax: bigint): boolean {
  let from = rMin;
  let to = rMax;
  // eLo*r <= hi
  if (hi === undefined) {
  } else if (eLo > 0n) to = min(to, floorDiv(hi, eLo));
  else if (eLo < 0n) from = max(from, ceilDiv(hi, eLo));
  else if (hi < 0n) return false;
  // eHi*r >= lo
  if (eHi > 0n) from = max(from, ceilDiv(lo, eHi));
  else if (eHi < 0n) to = min(to, floorDiv(lo, eHi));
  else if (lo > 0n) return false;
  return from <= to;
}

const min = (x: bigint, y: bigint): bigint => (x < y ? x : y);
const max = (x: bigint, y: bigint): bigint => (x > y ? x : y);

/** x >= 0 as an exact fraction N/D with a power-of-two D. */
function toRational(x: number): [bigint, bigint] {
  if (!(x > 0) || !Number.isFinite(x)) return [0n, 1n];
  const shift = Math.max(0, 52 - Math.floor(Math.log2(x)));
  return [BigInt(Math.round(x * 2 ** shift)), 1n << BigInt(shift)];
}

/** A non-negative integer slope for amount ~ slope * clients (least squares through the origin, in floating point: any slope is sound). */
function fitSlope(items: readonly Item[]): bigint {
  let xy = 0;
  let xx = 0;
  for (const it of items) {
    const x = Number(it.clients);
    xy += x * Number(it.amount);
    xx += x * x;
  }
  const s = xx > 0 ? Math.round(xy / xx) : 0;
  return Number.isFinite(s) && s > 0 ? BigInt(s) : 0n;
}

/** Chooses the banks to rob: fewest clients first, then the smaller amount, then fewer banks. */
export function planRobbery(banks: readonly BankTotals[], target: bigint): RobberyPlan {
  let amount = 0n;
  let clients = 0n;
  for (const b of banks) {
    amount += b.amount;
    clients += b.clients;
  }
  if (amount < target) return { reachable: false, target, amount, clients };
  // a bank without money only adds clients and a bank to the count
  const items = banks.flatMap((b, index) => (b.amount > 0n ? [{ index, clients: b.clients, amount: b.amount }] : [])).sort(byRatio);
  const search = new Search(items, target);
  const t0 = performance.now();
  search.minimiseClients();
  const n1 = search.nodes, t1 = performance.now();
  search.minimiseAmount();
  (globalThis as { __nodes?: number }).__nodes = ((globalThis as { __nodes?: number }).__nodes ?? 0) + search.nodes;
  if (process.env.RDEBUG) console.error("pass1", n1, (t1 - t0).toFixed(1), "pass2", search.nodes - n1, (performance.now() - t1).toFixed(1));
  const chosen = search.best.positions.map((p) => items[p]!.index).sort((x, y) => x - y);
  return { reachable: true, target, banks: chosen.map((i) => banks[i]!), amount: search.best.amount, clients: search.best.clients };
}
