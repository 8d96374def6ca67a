/**
 * The robbery planner: the set of banks holding at least the target that hurts the fewest clients, ties going
 * to the smaller amount, then to fewer banks. No I/O; exact for any bigint amounts and clients, unless the
 * time limit cuts the search short (the plan then says so).
 *
 * This is a min-cost knapsack cover, solved by depth-first branch and bound. Every node is tested against
 * relaxations of the banks still undecided. They only prune, so they run in floating point and lean towards
 * "possible" by more than rounding could move them; sums and the covers themselves stay exact bigints.
 *   - the LP relaxation (fractional banks in ratio order);
 *   - count bounds: at most as many banks as the cheapest fit in the client budget, at least enough to carry
 *     the money still needed;
 *   - a Lagrangian bound that prices money in clients over that count range. It is what makes networks of
 *     near-equal amounts tractable, where the LP bound is loose by a whole bank;
 *   - for the amount tie-break: with the clients fixed, amount = slope * clients + the residues of the banks
 *     taken, which lie between the sums of the r smallest and r largest residues. When amounts are strongly
 *     correlated with clients that pins the amount down to a few values.
 * When amounts follow clients closely (narrow residues), covers tie on clients and amount by the thousand and
 * the fewest banks is the hard part. There the planner first asks fewest_banks.ts for the fewest banks holding
 * exactly the target with exactly the root's bound of clients: when such a set exists it is the answer
 * outright. Otherwise passes 1 and 2 fix clients and amount and fewest_banks.ts finds the fewest banks.
 */

import { deadlineCheck, OUT_OF_TIME } from "./deadline.ts";
import { argMax } from "./golden_section.ts";
import { type CountItem, fewestBanks } from "./fewest_banks.ts";
import { SortedSuffixes } from "./sorted_suffixes.ts";

/** One bank as the planner sees it: its code, the money it holds and how many clients it has. */
export interface BankTotals {
  code: string;
  amount: bigint;
  clients: bigint;
}

/** A plan: the banks to rob and their totals, or, when the network holds too little, the whole network's totals. */
export type RobberyPlan<B extends BankTotals = BankTotals> =
  | { reachable: true; target: bigint; banks: B[]; amount: bigint; clients: bigint; exact: boolean }
  | { reachable: false; target: bigint; amount: bigint; clients: bigint };

interface Item {
  readonly index: number;
  readonly clients: bigint;
  readonly amount: bigint;
}

interface Cover {
  readonly clients: bigint;
  readonly amount: bigint;
  /** Positions in the search order. */
  readonly positions: readonly number[];
}

const cmp = (x: bigint, y: bigint): number => (x < y ? -1 : x > y ? 1 : 0);
const min = (x: bigint, y: bigint): bigint => (x < y ? x : y);
const max = (x: bigint, y: bigint): bigint => (x > y ? x : y);

/** ceil(x / y) for x >= 0, y > 0. */
const ceilDiv = (x: bigint, y: bigint): bigint => (x + y - 1n) / y;

/** Most money per client first (no clients counts as infinitely good); identical banks end up adjacent. */
function byRatio(x: Item, y: Item): number {
  return cmp(y.amount * x.clients, x.amount * y.clients) || cmp(x.clients, y.clients) || cmp(y.amount, x.amount) || x.index - y.index;
}

/**
 * Depth-first branch and bound over the banks in ratio order, so the undecided banks are always a suffix j..
 * Pass 1 finds the fewest clients, pass 2 the least amount and then the fewest banks at that many clients
 * (or pass 3 the fewest banks, when the residues are narrow).
 */
class Search {
  private readonly m: number;
  /** Sums over positions < j in ratio order, for the LP bound. */
  private readonly prefClients: bigint[] = [0n];
  private readonly prefAmount: bigint[] = [0n];
  /** The same in floating point, with the banks' own figures and a bound on what rounding does to lpReaches. */
  private readonly prefClientsF: Float64Array;
  private readonly prefAmountF: Float64Array;
  private readonly clientsF: Float64Array;
  private readonly amountF: Float64Array;
  private readonly lpSlack: number;
  /** Largest amount over j.. */
  private readonly maxAmount: bigint[];
  private readonly maxAmountF: Float64Array;
  private readonly slope: bigint;
  /** amount - slope * clients */
  private readonly residues: SortedSuffixes;
  private readonly clients: SortedSuffixes;
  /** Where the next different bank starts: identical banks are taken as a prefix of their run. */
  private readonly nextDistinct: number[];
  /** The Lagrangian multiplier nu = nuN / nuD and the suffix sums of nuD * clients - nuN * amount. */
  private nuNF = 0;
  private nuDF = 1;
  private lagrange: SortedSuffixes;
  private readonly stack: number[] = [];
  best: Cover;
  private bestCount: number;
  /** Covers searched for hold at most `budget` clients; in pass 1 also at least `low`. */
  private budget = 0n;
  private low = 0n;
  private lowest: bigint | undefined;
  /** The count range left by the last successful `fits`. */
  private rMin = 0;
  private rMax = 0;
  private readonly takeFirst: boolean;
  private readonly checkClock: () => void;

  constructor(
    private readonly items: readonly Item[],
    private readonly target: bigint,
    private readonly deadline: number,
  ) {
    this.checkClock = deadlineCheck(deadline);
    const m = (this.m = items.length);
    for (const it of items) {
      this.prefClients.push(this.prefClients[this.prefClients.length - 1]! + it.clients);
      this.prefAmount.push(this.prefAmount[this.prefAmount.length - 1]! + it.amount);
    }
    this.prefClientsF = Float64Array.from(this.prefClients, Number);
    this.prefAmountF = Float64Array.from(this.prefAmount, Number);
    this.clientsF = Float64Array.from(items, (it) => Number(it.clients));
    this.amountF = Float64Array.from(items, (it) => Number(it.amount));
    // every sum is within (m + 2) * 2^-53 of its magnitude; the products add little; 2^-36 leaves room for all of it
    const most = (xs: Float64Array) => xs.reduce((x, y) => Math.max(x, y), 0);
    this.lpSlack = 2 ** -36 * (m + 2) * (this.prefAmountF[m]! * (most(this.clientsF) + 1) + this.prefClientsF[m]! * most(this.amountF));
    this.slope = fitSlope(items);
    this.maxAmount = new Array<bigint>(m + 1).fill(0n);
    this.nextDistinct = new Array<number>(m).fill(m);
    for (let j = m - 1; j >= 0; j--) {
      const it = items[j]!;
      this.maxAmount[j] = j === m - 1 ? it.amount : max(it.amount, this.maxAmount[j + 1]!);
      const next = items[j + 1];
      this.nextDistinct[j] = next && next.clients === it.clients && next.amount === it.amount ? this.nextDistinct[j + 1]! : j + 1;
    }
    this.maxAmountF = Float64Array.from(this.maxAmount, Number);
    this.clients = new SortedSuffixes(items.map((it) => it.clients));
    this.residues = new SortedSuffixes(items.map((it) => it.amount - this.slope * it.clients));
    this.lagrange = this.clients;
    const half = this.prefClients[m >> 1]!;
    this.takeFirst = half > this.prefClients[m]! - half;
    this.best = this.greedy();
    this.bestCount = this.best.positions.length;
  }

  /** Banks in ratio order until the target is met. */
  private greedy(): Cover {
    let j = 0;
    while (this.prefAmount[j]! < this.target) j++;
    return { clients: this.prefClients[j]!, amount: this.prefAmount[j]!, positions: Array.from({ length: j }, (_, i) => i) };
  }

  /**
   * Whether the banks j.. may supply `need` more money within `cap` clients and at least `low` clients; on
   * success leaves the count range they allow in rMin..rMax.
   */
  private fits(j: number, cap: bigint, need: bigint, low: bigint): boolean {
    if (cap < 0n || j === this.m || !this.lpReaches(j, cap, need)) return false;
    const rMax = this.clients.mostWithin(j, cap);
    const needF = Number(need);
    // ceil(need / largest amount), never above the exact value (the factor outweighs the rounding errors)
    let rMin = Math.ceil((needF / this.maxAmountF[j]!) * (1 - 2 ** -50));
    if (low > 0n) rMin = Math.max(rMin, this.clients.fewestReaching(j, low));
    if (rMin > rMax || this.lagrangeRefutes(j, cap, needF, rMin, rMax)) return false;
    this.rMin = rMin;
    this.rMax = rMax;
    return true;
  }

  /**
   * clients(R) = nu * amount(R) + sum over R of (clients - nu * amount) >= nu * need + the smallest such sum,
   * which must fit in cap. In floating point, refuting only when the sides differ by more than the rounding
   * (a few ulps of each term) could account for.
   */
  private lagrangeRefutes(j: number, cap: bigint, needF: number, rMin: number, rMax: number): boolean {
    const left = this.nuDF * Number(cap);
    const money = this.nuNF * needF;
    const rest = this.lagrange.smallestSum(j, rMin, rMax);
    return left < money + rest - 2 ** -48 * (Math.abs(left) + Math.abs(money) + Math.abs(rest));
  }


  /**
   * The LP relaxation: the best-ratio banks of j.. whole, then a fraction of the next. Floating point decides
   * unless its answer lies within the rounding of the sums involved (`lpSlack`); then bigints do.
   */
  private lpReaches(j: number, cap: bigint, need: bigint): boolean {
    const limitF = this.prefClientsF[j]! + Number(cap);
    let lo = j;
    let hi = this.m;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.prefClientsF[mid]! <= limitF) lo = mid;
      else hi = mid - 1;
    }
    const shortF = Number(need) - (this.prefAmountF[lo]! - this.prefAmountF[j]!);
    const it = this.items[lo];
    const deficit = it ? shortF * this.clientsF[lo]! - (limitF - this.prefClientsF[lo]!) * this.amountF[lo]! : shortF;
    if (deficit < -this.lpSlack) return true;
    if (deficit > this.lpSlack) return false;
    return this.lpReachesExactly(j, cap, need, lo);
  }

  /** lpReaches in bigints, from the floating-point search's `lo` (at most a step or two off). */
  private lpReachesExactly(j: number, cap: bigint, need: bigint, lo: number): boolean {
    const limit = this.prefClients[j]! + cap;
    while (lo > j && this.prefClients[lo]! > limit) lo--;
    while (lo < this.m && this.prefClients[lo + 1]! <= limit) lo++;
    const short = need - (this.prefAmount[lo]! - this.prefAmount[j]!);
    if (short <= 0n) return true;
    if (lo === this.m) return false;
    const it = this.items[lo]!;
    return short * it.clients <= (limit - this.prefClients[lo]!) * it.amount;
  }



  /**
   * Pass 1: the fewest clients. Searches windows [low, budget] of client totals upwards from the root bound,
   * each about twice as wide as the last: the optimum usually sits at the bound, and a lower limit on the
   * clients still to come prunes hard. A window that yields a cover holds the optimum, as those below were empty.
   */
  minimiseClients(): void {
    const ceiling = this.best.clients - 1n;
    const canImprove = (j: number, c: bigint, a: bigint) => this.fits(j, this.budget - c, this.target - a, this.low - c);
    const improve = (c: bigint, a: bigint) => {
      this.record(c, a);
      this.budget = c - 1n;
    };
    for (let width = 0n, low = this.lowestClients(); low <= ceiling; width = 2n * width + 1n) {
      this.low = low;
      this.budget = min(low + width, ceiling);
      const before = this.best;
      this.dfs(0, 0n, 0n, canImprove, improve);
      if (this.best !== before) return;
      low = this.budget + 1n;
    }
  }

  /** The fewest clients the root's relaxations allow below the greedy cover's (that many when none), computed once. */
  private lowestClients(): bigint {
    if (this.lowest === undefined) {
      const ceiling = this.best.clients - 1n;
      if (ceiling < 0n) return (this.lowest = 0n);
      this.tuneMultiplier(ceiling);
      this.lowest = this.rootBound(ceiling);
    }
    return this.lowest;
  }

  /**
   * The shortcut for narrow residues, where covers tie by the thousand: the fewest banks holding exactly the
   * target with exactly the fewest clients the root's relaxations allow. Such a cover is the answer outright
   * (no cover has fewer clients, none reaches the target with less), so the passes are skipped. It gets a
   * quarter of the time left; when there is no such cover, or no answer in that time, the passes run.
   */
  coverAtBound(): boolean {
    const clients = this.lowestClients();
    if (clients >= this.best.clients) return false;
    const started = performance.now();
    const sums = { clients, residue: this.target - this.slope * clients };
    try {
      const positions = fewestBanks(this.countItems(), sums, { fewerThan: this.m + 1, deadline: started + (this.deadline - started) / 4 });
      if (!positions) return false;
      this.best = { clients, amount: this.target, positions };
      this.bestCount = positions.length;
      return true;
    } catch (error) {
      if (error !== OUT_OF_TIME) throw error;
      return false;
    }
  }


  /** The least client budget the root's relaxations allow (they are monotone in the budget). */
  private rootBound(ceiling: bigint): bigint {
    let lo = 0n;
    let hi = ceiling + 1n;
    while (lo < hi) {
      const mid = (lo + hi) / 2n;
      if (this.fits(0, mid, this.target, 0n)) hi = mid;
      else lo = mid + 1n;
    }
    return lo;
  }

  /**
   * Picks nu for the Lagrangian bound by maximising it at the root in floating point (it is concave in nu; any
   * nu >= 0 is sound), then fixes it as an exact fraction.
   */
  private tuneMultiplier(budget: bigint): void {
    const rMin = Number(ceilDiv(this.target, this.maxAmount[0]!));
    const rMax = this.clients.mostWithin(0, budget);
    const c = this.clientsF;
    const a = this.amountF;
    const t = Number(this.target);
    const v = new Float64Array(this.m);
    const bound = (nu: number): number => {
      for (let i = 0; i < this.m; i++) v[i] = c[i]! - nu * a[i]!;
      v.sort();
      let sum = 0;
      let least = Infinity;
      for (let r = 0; r < rMax; r++) {
        if (r >= rMin) least = Math.min(least, sum);
        sum += v[r]!;
      }
      return rMin > rMax ? Infinity : nu * t + Math.min(least, sum);
    };
    let hi = 0;
    for (let i = 0; i < this.m; i++) hi = Math.max(hi, (c[i]! + 1) / a[i]!);
    for (let step = 0; step < 128 && bound(2 * hi) >= bound(hi); step++) hi *= 2;
    const [nuN, nuD] = toFraction(argMax(bound, 0, 2 * hi, 60));
    this.nuNF = Number(nuN);
    this.nuDF = Number(nuD);
    this.lagrange = new SortedSuffixes(this.items.map((it) => nuD * it.clients - nuN * it.amount));
  }

  /**
   * Pass 2: at the minimum clients C, the least amount, then (with `fewestBanks`) the fewest banks. A cover
   * with C clients takes exactly C - c more from j.., and their money is slope * (C - c) plus r residues: that
   * must land between the target and the best amount so far (reaching it only with fewer banks).
   */
  minimiseAmount(fewestBanks: boolean): void {
    this.budget = this.best.clients;
    const canImprove = (j: number, c: bigint, a: bigint): boolean => {
      const cap = this.budget - c;
      const need = this.target - a;
      if (!this.fits(j, cap, need, cap)) return false;
      const lo = need - this.slope * cap;
      const hi = this.best.amount - a - this.slope * cap;
      const fewer = this.bestCount - this.stack.length - 1;
      return fewestBanks
        ? this.residues.someCount(j, lo, hi, this.rMin, Math.min(this.rMax, fewer)) ||
          this.residues.someCount(j, lo, hi - 1n, Math.max(this.rMin, fewer + 1), this.rMax)
        : this.residues.someCount(j, lo, hi - 1n, this.rMin, this.rMax);
    };
    // without the banks tie-break, covers with fewer banks at the same amount are still kept when met
    const improve = (c: bigint, a: bigint) => {
      if (a < this.best.amount || (a === this.best.amount && this.stack.length < this.bestCount)) this.record(c, a);
    };
    this.dfs(0, 0n, 0n, canImprove, improve);
  }

  /**
   * Whether the residues span less than one bank's clients do, counted over all banks: amounts then follow
   * clients so closely that covers tie on clients and amount by the thousand, and pass 2 is better left
   * to the amount, with pass 3 for the banks.
   */
  residuesNarrow(): boolean {
    const spread = (xs: readonly bigint[]) => xs.reduce(max, xs[0] ?? 0n) - xs.reduce(min, xs[0] ?? 0n);
    const residues = this.items.map((_, p) => this.residueOf(p));
    return spread(residues) * BigInt(this.m) < spread(this.items.map((it) => it.clients));
  }

  /** Pass 3: at the minimum clients C and amount A, the fewest banks (fewest_banks.ts). */
  minimiseCount(): void {
    const { clients, amount } = this.best;
    const sums = { clients, residue: amount - this.slope * clients };
    const positions = fewestBanks(this.countItems(), sums, { fewerThan: this.bestCount, deadline: this.deadline });
    if (positions) {
      this.best = { clients, amount, positions };
      this.bestCount = positions.length;
    }
  }

  /** The banks as fewestBanks sees them. */
  private countItems(): CountItem[] {
    return this.items.map((it, p) => ({ clients: it.clients, residue: this.residueOf(p) }));
  }

  private residueOf(p: number): bigint {
    const it = this.items[p]!;
    return it.amount - this.slope * it.clients;
  }

  private record(clients: bigint, amount: bigint): void {
    this.best = { clients, amount, positions: [...this.stack] };
    this.bestCount = this.stack.length;
  }

  /**
   * Depth-first from bank j with c clients and amount a taken so far. Each bank is first left out, then taken,
   * or the other way round when the best-ratio banks are the big ones: measured, leaving out first finds the
   * tight covers of strongly correlated networks far sooner, taking first those of inversely correlated ones.
   */
  private dfs(j: number, c: bigint, a: bigint, canImprove: Probe, found: Found): void {
    this.checkClock();
    if (a >= this.target) {
      found(c, a);
      return;
    }
    if (!canImprove(j, c, a)) return;
    if (!this.takeFirst) this.dfs(this.nextDistinct[j]!, c, a, canImprove, found);
    const it = this.items[j]!;
    if (c + it.clients <= this.budget) {
      this.stack.push(j);
      this.dfs(j + 1, c + it.clients, a + it.amount, canImprove, found);
      this.stack.pop();
    }
    if (this.takeFirst) this.dfs(this.nextDistinct[j]!, c, a, canImprove, found);
  }
}

type Probe = (j: number, c: bigint, a: bigint) => boolean;
type Found = (c: bigint, a: bigint) => void;

/** x >= 0 as an exact fraction with a power-of-two denominator. */
function toFraction(x: number): [bigint, bigint] {
  if (!(x > 0) || !Number.isFinite(x)) return [0n, 1n];
  const shift = Math.max(0, 52 - Math.floor(Math.log2(x)));
  return [BigInt(Math.round(x * 2 ** shift)), 1n << BigInt(shift)];
}

/** The least-squares slope of amount against clients, rounded (floating point is fine: any slope is sound). */
function fitSlope(items: readonly Item[]): bigint {
  let sc = 0;
  let sa = 0;
  for (const it of items) {
    sc += Number(it.clients);
    sa += Number(it.amount);
  }
  const mc = sc / items.length;
  const ma = sa / items.length;
  let cov = 0;
  let vc = 0;
  for (const it of items) {
    const dc = Number(it.clients) - mc;
    cov += dc * (Number(it.amount) - ma);
    vc += dc * dc;
  }
  const slope = Math.round(cov / vc);
  return Number.isFinite(slope) ? BigInt(slope) : 0n;
}

/** How long planRobbery searches by default before it settles for the best cover found (the bank passes what is left of `timeout`). */
export const PLAN_TIME_LIMIT_MS = 1000;

/**
 * Chooses the banks to rob: fewest clients first, then the smaller amount, then fewer banks. The search
 * is exact; should it run past `timeLimitMs` (adversarial, strongly correlated networks) it returns the
 * best cover found so far, never worse than the greedy one, with `exact: false`.
 */
export function planRobbery<B extends BankTotals>(
  banks: readonly B[],
  target: bigint,
  timeLimitMs = PLAN_TIME_LIMIT_MS,
): RobberyPlan<B> {
  const items = candidates(banks, target);
  if (!Array.isArray(items)) return items;
  const search = new Search(items, target, performance.now() + timeLimitMs);
  let exact = true;
  try {
    if (!search.residuesNarrow()) {
      search.minimiseClients();
      search.minimiseAmount(true);
    } else if (!search.coverAtBound()) {
      search.minimiseClients();
      search.minimiseAmount(false);
      search.minimiseCount();
    }
  } catch (error) {
    if (error !== OUT_OF_TIME) throw error;
    exact = false;
  }
  const chosen = search.best.positions.map((p) => items[p]!.index).sort((x, y) => x - y);
  return {
    reachable: true,
    target,
    banks: chosen.map((i) => banks[i]!),
    amount: search.best.amount,
    clients: search.best.clients,
    exact,
  };
}

/**
 * The banks worth robbing, sorted by money per client (a bank without money could only add clients),
 * or the unreachable plan with the whole network's totals when all of it holds less than the target.
 */
function candidates<B extends BankTotals>(banks: readonly B[], target: bigint): Item[] | RobberyPlan<B> {
  let amount = 0n;
  let clients = 0n;
  for (const b of banks) {
    amount += b.amount;
    clients += b.clients;
  }
  if (amount < target) return { reachable: false, target, amount, clients };
  return banks.flatMap((b, index) => (b.amount > 0n ? [{ index, clients: b.clients, amount: b.amount }] : [])).sort(byRatio);
}

/** The greedy plan: banks by money per client, best first, until the target is met. Valid, not proven optimal. */
export function greedyPlan<B extends BankTotals>(banks: readonly B[], target: bigint): RobberyPlan<B> {
  const items = candidates(banks, target);
  if (!Array.isArray(items)) return items;
  const chosen: number[] = [];
  let amount = 0n;
  let clients = 0n;
  for (const it of items) {
    if (amount >= target) break;
    chosen.push(it.index);
    amount += it.amount;
    clients += it.clients;
  }
  chosen.sort((x, y) => x - y);
  return { reachable: true, target, banks: chosen.map((i) => banks[i]!), amount, clients, exact: false };
}
