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

/** Least amount per client first (clients 0 count as infinitely good); identical banks end up adjacent. */
function byRatio(x: Item, y: Item): number {
  return cmp(x.amount * y.clients, y.amount * x.clients) || cmp(y.clients, x.clients) || cmp(x.amount, y.amount) || y.index - x.index;
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
  private readonly sufClients: bigint[];
  private readonly sufAmount: bigint[];
  private readonly maxAmount: bigint[];
  private readonly eLo: bigint[];
  private readonly eHi: bigint[];
  private readonly cheapest: bigint[][] = [];
  private readonly nextDistinct: number[];
  private readonly slope: bigint;
  private readonly stack: number[] = [];
  best: Solution;
  private budget = 0n;
  private bestCount = 0;
  nodes = 0;

  constructor(
    private readonly items: readonly Item[],
    private readonly target: bigint,
  ) {
    const m = (this.m = items.length);
    this.sufClients = new Array<bigint>(m + 1).fill(0n);
    this.sufAmount = new Array<bigint>(m + 1).fill(0n);
    for (let j = m - 1; j >= 0; j--) {
      this.sufClients[j] = this.sufClients[j + 1]! + items[j]!.clients;
      this.sufAmount[j] = this.sufAmount[j + 1]! + items[j]!.amount;
    }
    this.slope = fitSlope(items);
    this.maxAmount = new Array<bigint>(m + 1).fill(0n);
    this.eLo = new Array<bigint>(m + 1).fill(0n);
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
    this.best = this.greedy();
    this.bestCount = this.best.positions.length;
  }

  /** Take the best banks by ratio until the target is met. */
  private greedy(): Solution {
    let j = this.m;
    while (this.sufAmount[j]! < this.target) j--;
    return { clients: this.sufClients[j]!, amount: this.sufAmount[j]!, positions: Array.from({ length: this.m - j }, (_, i) => j + i) };
  }

  /** Prefix sums of the suffix's clients in increasing order: cheapest(j)[r] is the fewest clients r banks of it can have. */
  private cheap(j: number): bigint[] {
    let sums = this.cheapest[j];
    if (!sums) {
      const clients = this.items.slice(j).map((it) => it.clients).sort(cmp);
      sums = [0n];
      for (const c of clients) sums.push(sums.at(-1)! + c);
      this.cheapest[j] = sums;
    }
    return sums;
  }

  /** The most banks of the suffix j.. that fit in `cap` clients. */
  private maxCount(j: number, cap: bigint): number {
    const sums = this.cheap(j);
    let lo = 0;
    let hi = sums.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (sums[mid]! <= cap) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Whether the LP relaxation over the suffix j.. (best ratios last) reaches `need` more money within `cap` clients. */
  private lpReaches(j: number, cap: bigint, need: bigint): boolean {
    let lo = j;
    let hi = this.m;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sufClients[mid]! <= cap) hi = mid;
      else lo = mid + 1;
    }
    const full = this.sufAmount[lo]!;
    if (full >= need) return true;
    if (lo === j) return false;
    const it = this.items[lo - 1]!;
    return (need - full) * it.clients <= (cap - this.sufClients[lo]!) * it.amount;
  }

  /**
   * Count range [rMin, rMax] for the banks still to take from j.. so that `need` more money fits in `cap`
   * clients (in exactly `cap` clients when `exact`), or undefined when even the relaxations fail.
   */
  private counts(j: number, cap: bigint, need: bigint, exact: boolean): [bigint, bigint] | undefined {
    if (cap < 0n || j === this.m || !this.lpReaches(j, cap, need)) return undefined;
    const sums = this.cheap(j);
    const rMax = BigInt(this.maxCount(j, cap));
    let rMin = ceilDiv(need, this.maxAmount[j]!);
    if (exact) {
      // the r dearest banks of the rest must reach cap
      const len = sums.length - 1;
      let lo = 0;
      let hi = len;
      if (sums[len]! < cap) return undefined;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sums[len]! - sums[len - mid]! >= cap) hi = mid;
        else lo = mid + 1;
      }
      rMin = max(rMin, BigInt(lo));
    }
    return rMin <= rMax ? [rMin, rMax] : undefined;
  }

  /** Pass 1: the fewest clients. */
  minimiseClients(): void {
    this.budget = this.best.clients - 1n;
    if (this.budget >= 0n) this.dfs(0, 0n, 0n, (j, c, a) => this.clientsCanImprove(j, c, a), (c, a) => this.improveClients(c, a));
  }

  /** The rest brings slope*clients + (r values of e) with clients <= cap: that must reach the need. */
  private clientsCanImprove(j: number, c: bigint, a: bigint): boolean {
    const cap = this.budget - c;
    const need = this.target - a;
    const counts = this.counts(j, cap, need, false);
    return counts !== undefined && latticeHit(this.eLo[j]!, this.eHi[j]!, need - this.slope * cap, undefined, counts[0], counts[1]);
  }

  private improveClients(c: bigint, a: bigint): void {
    this.best = { clients: c, amount: a, positions: [...this.stack] };
    this.bestCount = this.stack.length;
    this.budget = c - 1n;
  }

  /** Pass 2: with the clients fixed at the minimum, the least amount, then the fewest banks. */
  minimiseAmount(): void {
    this.budget = this.best.clients;
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
    const counts = this.counts(j, cap, need, true);
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
    this.dfs(this.nextDistinct[j]!, c, a, promising, found);
    const it = this.items[j]!;
    if (c + it.clients <= this.budget) {
      this.stack.push(j);
      this.dfs(j + 1, c + it.clients, a + it.amount, promising, found);
      this.stack.pop();
    }
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
  if (process.env.RDEBUG) console.error("pass1", n1, (t1 - t0).toFixed(1), "pass2", search.nodes - n1, (performance.now() - t1).toFixed(1));
  const chosen = search.best.positions.map((p) => items[p]!.index).sort((x, y) => x - y);
  return { reachable: true, target, banks: chosen.map((i) => banks[i]!), amount: search.best.amount, clients: search.best.clients };
}
