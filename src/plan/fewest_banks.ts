/**
 * Pass 3 of the robbery planner: the fewest banks whose clients sum to exactly C and whose residues
 * (amount − slope × clients) sum to exactly R. No I/O; exact in bigint, floating point only chooses.
 *
 * For each count k upwards:
 *   - a relaxation refutes k when some direction (p, q) separates: the k smallest values of
 *     p × clients + q × residue sum to more than p × C + q × R, or the k largest to less. That is the LP
 *     relaxation (k banks, fractions allowed); the directions are found in floating point, then checked in bigint;
 *   - past it, a local search looks for a k-set: the k best banks in the direction that comes closest to
 *     separating (the LP's vertex), swaps towards the sums, then an exact repair of one or two swaps by hash;
 *   - should that fail, a depth-first search for exactly k banks, pruned by the same directions, decides.
 * On strongly correlated networks with noise the LP bound is almost always met, so the first k not refuted
 * is found within a few swaps and is then proven least.
 */
import { deadlineCheck } from "./deadline.ts";
import { SortedSuffixes } from "./sorted_suffixes.ts";

/** A bank as this pass sees it: its clients (>= 0) and its residue (any sign). */
export interface CountItem {
  readonly clients: bigint;
  readonly residue: bigint;
}

/** What fewestBanks looks for and how long it may look. */
export interface FewestBanksOptions {
  /** Sets of at least this many banks are of no interest (the size of the best set known). */
  fewerThan: number;
  /** The `performance.now()` past which the search throws OUT_OF_TIME. */
  deadline: number;
  /** Told of each smaller set found before it is proven least, so a caller cut short by time can keep it. */
  onFound?: (positions: readonly number[]) => void;
}

/**
 * Positions (into `items`) of the fewest items with clients summing to exactly `sums.clients` and residues to
 * exactly `sums.residue`, fewer than `fewerThan`; undefined when there is no such set. Throws OUT_OF_TIME
 * past the deadline.
 */
export function fewestBanks(
  items: readonly CountItem[],
  sums: CountItem,
  { fewerThan, deadline, onFound }: FewestBanksOptions,
): number[] | undefined {
  const check = deadlineCheck(deadline);
  const most = Math.min(fewerThan - 1, items.length);
  const relaxation = new Relaxation(items, sums);
  const open: number[] = [];
  const local = new LocalSearch(items, sums, check);
  let found: { k: number; positions: number[] } | undefined;
  // first the quick way: the local search from each count the relaxation leaves, upwards
  for (let k = 0; k <= most; k++) {
    if (relaxation.refutes(k)) continue;
    check();
    const positions = local.run(k, relaxation.tight(k));
    if (positions) {
      found = { k, positions };
      break;
    }
    open.push(k);
  }
  if (found && open.length === 0) return found.positions;
  if (found) onFound?.(found.positions);
  // then the counts it missed, exhaustively: the first with a set is the least
  for (const k of open) {
    const positions = exhaustive(items, sums, k, relaxation, check);
    if (positions) return positions;
  }
  return found?.positions;
}

/** A direction (p, q) exactly: an item's value is p × clients + q × residue. */
class Direction {
  /** Sums of the r smallest values, r = 0..n. */
  private readonly smallest: bigint[] = [0n];
  private readonly total: bigint;
  private readonly target: bigint;

  constructor(
    readonly p: bigint,
    readonly q: bigint,
    items: readonly CountItem[],
    sums: CountItem,
  ) {
    const values = items.map((it) => p * it.clients + q * it.residue).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    let total = 0n;
    for (const v of values) this.smallest.push((total += v));
    this.total = total;
    this.target = p * sums.clients + q * sums.residue;
  }

  /** Whether no k items have the target value in this direction. */
  refutes(k: number): boolean {
    const n = this.smallest.length - 1;
    return this.smallest[k]! > this.target || this.total - this.smallest[n - k]! < this.target;
  }
}

/** Where the sums lie nearest the edge of the k-set polygon: the angle of the direction and which side. */
interface Tight {
  /** The direction, scaled per coordinate as in Relaxation. */
  readonly u: number;
  readonly w: number;
  /** The k smallest values (true) or the k largest come nearest. */
  readonly low: boolean;
}

const GRID = 256;

/**
 * The LP relaxation per count k, by directions: a coarse grid of angles in floating point (clients and
 * residues scaled to the same spread), refined per k, each separating one checked in bigint.
 */
class Relaxation {
  private readonly n: number;
  private readonly xs: Float64Array;
  private readonly ys: Float64Array;
  private readonly x: number;
  private readonly y: number;
  private readonly sx: number;
  private readonly sy: number;
  /** Per k, the grid angle with the largest gap. */
  private readonly gridAngle: Float64Array;
  private readonly directions: Direction[];
  private readonly values: Float64Array;
  private readonly tuned = new Map<number, number>();

  constructor(
    private readonly items: readonly CountItem[],
    private readonly sums: CountItem,
  ) {
    const n = (this.n = items.length);
    const spread = (xs: readonly number[]) => Math.max(1, ...xs.map(Math.abs));
    const cs = items.map((it) => Number(it.clients));
    const rs = items.map((it) => Number(it.residue));
    this.sx = spread(cs);
    this.sy = spread(rs);
    this.xs = Float64Array.from(cs, (c) => c / this.sx);
    this.ys = Float64Array.from(rs, (r) => r / this.sy);
    this.x = Number(sums.clients) / this.sx;
    this.y = Number(sums.residue) / this.sy;
    this.values = new Float64Array(n);
    this.directions = [new Direction(1n, 0n, items, sums), new Direction(0n, 1n, items, sums)];
    const best = new Float64Array(n + 1).fill(-Infinity);
    this.gridAngle = new Float64Array(n + 1);
    for (let g = 0; g < GRID; g++) {
      const angle = (Math.PI * g) / GRID;
      const gaps = this.gaps(angle);
      for (let k = 0; k <= n; k++) {
        if (gaps[k]! > best[k]!) {
          best[k] = gaps[k]!;
          this.gridAngle[k] = angle;
        }
      }
    }
  }

  /** Per k, how far the sums lie outside the k-set polygon in the direction of `angle` (negative: inside). */
  private gaps(angle: number): Float64Array {
    const u = Math.cos(angle);
    const w = Math.sin(angle);
    const v = this.values;
    for (let i = 0; i < this.n; i++) v[i] = u * this.xs[i]! + w * this.ys[i]!;
    v.sort();
    const target = u * this.x + w * this.y;
    let total = 0;
    for (let i = 0; i < this.n; i++) total += v[i]!;
    const gaps = new Float64Array(this.n + 1);
    let low = 0;
    let high = 0;
    for (let k = 0; k <= this.n; k++) {
      gaps[k] = Math.max(low - target, target - high);
      low += v[k] ?? 0;
      high += v[this.n - 1 - k] ?? 0;
    }
    return gaps;
  }

  /** The gap of count k at `angle` and on which side it is. */
  private gap(angle: number, k: number): { gap: number; low: boolean } {
    const u = Math.cos(angle);
    const w = Math.sin(angle);
    const v = this.values;
    for (let i = 0; i < this.n; i++) v[i] = u * this.xs[i]! + w * this.ys[i]!;
    v.sort();
    let low = 0;
    let high = 0;
    for (let i = 0; i < k; i++) {
      low += v[i]!;
      high += v[this.n - 1 - i]!;
    }
    const target = u * this.x + w * this.y;
    return low - target >= target - high ? { gap: low - target, low: true } : { gap: target - high, low: false };
  }

  /** The angle near the grid's best where count k's gap is largest (golden-section search). */
  private tunedAngle(k: number): number {
    let angle = this.tuned.get(k);
    if (angle === undefined) this.tuned.set(k, (angle = this.goldenSection(k)));
    return angle;
  }

  private goldenSection(k: number): number {
    const ratio = (Math.sqrt(5) - 1) / 2;
    let lo = this.gridAngle[k]! - Math.PI / GRID;
    let hi = this.gridAngle[k]! + Math.PI / GRID;
    let a = hi - ratio * (hi - lo);
    let b = lo + ratio * (hi - lo);
    let fa = this.gap(a, k).gap;
    let fb = this.gap(b, k).gap;
    for (let step = 0; step < 40; step++) {
      if (fa < fb) {
        lo = a;
        a = b;
        fa = fb;
        b = lo + ratio * (hi - lo);
        fb = this.gap(b, k).gap;
      } else {
        hi = b;
        b = a;
        fb = fa;
        a = hi - ratio * (hi - lo);
        fa = this.gap(a, k).gap;
      }
    }
    return fa < fb ? b : a;
  }

  /** Whether some direction proves, exactly, that no k items have the sums. */
  refutes(k: number): boolean {
    if (this.directions.some((d) => d.refutes(k))) return true;
    // the grid's angle mostly does; tuning it costs dozens of sorts
    if (this.gap(this.gridAngle[k]!, k).gap > 0) {
      const direction = this.exact(this.gridAngle[k]!);
      if (direction.refutes(k)) {
        this.directions.push(direction);
        return true;
      }
    }
    const angle = this.tunedAngle(k);
    if (!(this.gap(angle, k).gap > 0)) return false;
    const direction = this.exact(angle);
    this.directions.push(direction);
    return direction.refutes(k);
  }

  /** The direction nearest to separating count k (the LP's dual), for the local search and the exhaustive one. */
  tight(k: number): Tight {
    const angle = this.tunedAngle(k);
    return { u: Math.cos(angle) / this.sx, w: Math.sin(angle) / this.sy, low: this.gap(angle, k).low };
  }

  /** The directions the exhaustive search for count k prunes with: clients, residues and the tightest one. */
  pruning(k: number): Direction[] {
    return [...this.directions.slice(0, 2), this.exact(this.tunedAngle(k))];
  }

  /** The direction of `angle` in integers (a fine rounding of it: any direction is sound). */
  private exact(angle: number): Direction {
    const a = Math.cos(angle) / this.sx;
    const b = Math.sin(angle) / this.sy;
    const scale = 2 ** (52 - Math.ceil(Math.log2(Math.max(Math.abs(a), Math.abs(b)))));
    return new Direction(BigInt(Math.round(a * scale)), BigInt(Math.round(b * scale)), this.items, this.sums);
  }
}

/** Hash key of a pair of sums: equal sums give equal keys; the rare collision is sorted out exactly. */
const key = (c: bigint, r: bigint): number => Number(c) * 65_537 + Number(r);

/**
 * Looks for a k-set with the sums: the k best items in the tight direction, swaps that bring the sums
 * closer (in floating point), then an exact repair of at most two swaps; a few restarts from random swaps.
 */
class LocalSearch {
  private readonly n: number;
  private xs = new Float64Array(0);
  private ys = new Float64Array(0);
  private tight: Tight = { u: 1, w: 1, low: true };
  private readonly inSet: Uint8Array;
  private members: number[] = [];
  private others: number[] = [];
  private missingClients = 0n;
  private missingResidue = 0n;
  /** Items by (clients, residue), and pairs of items by their sums. */
  private readonly singles = new Map<number, number[]>();
  private pairs: Map<number, number[]> | undefined;
  private seed = 0x9e3779b9;

  constructor(
    private readonly items: readonly CountItem[],
    private readonly sums: CountItem,
    private readonly check: () => void,
  ) {
    const n = (this.n = items.length);
    this.inSet = new Uint8Array(n);
    items.forEach((it, i) => push(this.singles, key(it.clients, it.residue), i));
  }

  /** A k-set with the sums, starting from the k best items in the tight direction, or undefined when none was met. */
  run(k: number, tight: Tight, restarts = 8): number[] | undefined {
    this.tight = tight;
    this.xs = Float64Array.from(this.items, (it) => tight.u * Number(it.clients));
    this.ys = Float64Array.from(this.items, (it) => tight.w * Number(it.residue));
    this.inSet.fill(0);
    const order = this.items.map((_, i) => i);
    const value = (i: number) => this.xs[i]! + this.ys[i]!;
    order.sort((i, j) => (this.tight.low ? value(i) - value(j) : value(j) - value(i)));
    for (let i = 0; i < k; i++) this.inSet[order[i]!] = 1;
    this.recount();
    for (let attempt = 0; attempt <= restarts; attempt++) {
      this.check();
      this.descend();
      if (this.repair()) return this.members.slice().sort((a, b) => a - b);
      if (k === 0 || k === this.n) return undefined;
      for (let s = 0; s < 2 + attempt; s++) this.swap(this.members[this.random(k)]!, this.others[this.random(this.n - k)]!);
    }
    return undefined;
  }

  private recount(): void {
    this.members = [];
    this.others = [];
    let c = 0n;
    let r = 0n;
    for (let i = 0; i < this.n; i++) {
      if (this.inSet[i]) {
        this.members.push(i);
        c += this.items[i]!.clients;
        r += this.items[i]!.residue;
      } else this.others.push(i);
    }
    this.missingClients = this.sums.clients - c;
    this.missingResidue = this.sums.residue - r;
  }

  private swap(out: number, into: number): void {
    this.inSet[out] = 0;
    this.inSet[into] = 1;
    this.missingClients += this.items[out]!.clients - this.items[into]!.clients;
    this.missingResidue += this.items[out]!.residue - this.items[into]!.residue;
    this.members[this.members.indexOf(out)] = into;
    this.others[this.others.indexOf(into)] = out;
  }

  /**
   * Best single swaps while they bring the sums closer, measured in the tight direction's scale per
   * coordinate (floating point: it only steers).
   */
  private descend(): void {
    for (let step = 0; step < 4 * this.n; step++) {
      const dx = this.tight.u * Number(this.missingClients);
      const dy = this.tight.w * Number(this.missingResidue);
      let best = dx * dx + dy * dy;
      let out = -1;
      let into = -1;
      for (const o of this.members) {
        for (const i of this.others) {
          const ex = dx - (this.xs[i]! - this.xs[o]!);
          const ey = dy - (this.ys[i]! - this.ys[o]!);
          const e = ex * ex + ey * ey;
          if (e < best) {
            best = e;
            out = o;
            into = i;
          }
        }
      }
      if (out < 0) return;
      this.swap(out, into);
    }
  }

  /** Closes the gap exactly with no swap, one or two, when it can. */
  private repair(): boolean {
    const dc = this.missingClients;
    const dr = this.missingResidue;
    if (dc === 0n && dr === 0n) return true;
    for (const o of this.members) {
      const c = this.items[o]!.clients + dc;
      const r = this.items[o]!.residue + dr;
      for (const i of this.singles.get(key(c, r)) ?? []) {
        if (!this.inSet[i] && this.items[i]!.clients === c && this.items[i]!.residue === r) {
          this.swap(o, i);
          return true;
        }
      }
    }
    const pairs = (this.pairs ??= this.allPairs());
    // walk the pairs of the smaller side, look up the other side's pair
    const fromMembers = this.members.length <= this.others.length;
    const side = fromMembers ? this.members : this.others;
    const sign = fromMembers ? 1n : -1n;
    for (let a = 0; a < side.length; a++) {
      const x = this.items[side[a]!]!;
      for (let b = a + 1; b < side.length; b++) {
        const y = this.items[side[b]!]!;
        const c = x.clients + y.clients + sign * dc;
        const r = x.residue + y.residue + sign * dr;
        const bucket = pairs.get(key(c, r));
        if (!bucket) continue;
        for (let t = 0; t < bucket.length; t += 2) {
          const i = bucket[t]!;
          const j = bucket[t + 1]!;
          if (this.inSet[i] === (fromMembers ? 1 : 0) || this.inSet[j] === (fromMembers ? 1 : 0)) continue;
          const p = this.items[i]!;
          const q = this.items[j]!;
          if (p.clients + q.clients !== c || p.residue + q.residue !== r) continue;
          if (fromMembers) {
            this.swap(side[a]!, i);
            this.swap(side[b]!, j);
          } else {
            this.swap(i, side[a]!);
            this.swap(j, side[b]!);
          }
          return true;
        }
      }
    }
    return false;
  }

  private allPairs(): Map<number, number[]> {
    const pairs = new Map<number, number[]>();
    for (let i = 0; i < this.n; i++) {
      const x = this.items[i]!;
      for (let j = i + 1; j < this.n; j++) {
        const y = this.items[j]!;
        const bucket = pairs.get(key(x.clients + y.clients, x.residue + y.residue));
        if (bucket) bucket.push(i, j);
        else pairs.set(key(x.clients + y.clients, x.residue + y.residue), [i, j]);
      }
    }
    return pairs;
  }

  /** A deterministic pseudo-random integer in [0, below) (mulberry32), so a run can be replayed. */
  private random(below: number): number {
    let t = (this.seed = (this.seed + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  }
}

function push(map: Map<number, number[]>, k: number, ...values: number[]): void {
  const list = map.get(k);
  if (list) list.push(...values);
  else map.set(k, values);
}

/**
 * Depth-first search for exactly k items with the sums, in the tight direction's order, every node tested
 * against the relaxation's directions on the items still undecided. Identical items are taken as a prefix of
 * their run, so no set is visited twice.
 */
function exhaustive(items: readonly CountItem[], sums: CountItem, k: number, relaxation: Relaxation, check: () => void): number[] | undefined {
  const directions = relaxation.pruning(k);
  const tight = directions[2]!;
  const value = (it: CountItem) => tight.p * it.clients + tight.q * it.residue;
  const order = items.map((_, i) => i).sort((i, j) => {
    const x = items[i]!;
    const y = items[j]!;
    const vx = value(x);
    const vy = value(y);
    return vx < vy ? -1 : vx > vy ? 1 : x.clients < y.clients ? -1 : x.clients > y.clients ? 1 : x.residue < y.residue ? -1 : x.residue > y.residue ? 1 : i - j;
  });
  const m = order.length;
  const cs = order.map((i) => items[i]!.clients);
  const rs = order.map((i) => items[i]!.residue);
  const suffixes = directions.map((d) => new SortedSuffixes(order.map((i) => d.p * items[i]!.clients + d.q * items[i]!.residue)));
  const nextDistinct = new Array<number>(m).fill(m);
  for (let j = m - 2; j >= 0; j--) nextDistinct[j] = cs[j] === cs[j + 1] && rs[j] === rs[j + 1] ? nextDistinct[j + 1]! : j + 1;
  // the last one or two items come from a table instead of a walk through the suffix
  const singles = new Map<number, number[]>();
  const pairs = new Map<number, number[]>();
  for (let a = 0; a < m; a++) {
    push(singles, key(cs[a]!, rs[a]!), a);
    for (let b = a + 1; b < m; b++) push(pairs, key(cs[a]! + cs[b]!, rs[a]! + rs[b]!), a, b);
  }
  const taken: number[] = [];
  const search = (j: number, r: number, c: bigint, residue: bigint): boolean => {
    check();
    if (r === 0) return c === 0n && residue === 0n;
    if (r === 1) {
      for (const a of singles.get(key(c, residue)) ?? []) {
        if (a >= j && cs[a] === c && rs[a] === residue) return taken.push(order[a]!) > 0;
      }
      return false;
    }
    if (r === 2) {
      const bucket = pairs.get(key(c, residue)) ?? [];
      for (let t = 0; t < bucket.length; t += 2) {
        const a = bucket[t]!;
        const b = bucket[t + 1]!;
        if (a >= j && cs[a]! + cs[b]! === c && rs[a]! + rs[b]! === residue) return taken.push(order[a]!, order[b]!) > 0;
      }
      return false;
    }
    for (let d = 0; d < directions.length; d++) {
      if (!suffixes[d]!.spans(j, r, directions[d]!.p * c + directions[d]!.q * residue)) return false;
    }
    taken.push(order[j]!);
    if (search(j + 1, r - 1, c - cs[j]!, residue - rs[j]!)) return true;
    taken.pop();
    return search(nextDistinct[j]!, r, c, residue);
  };
  return search(0, k, sums.clients, sums.residue) ? taken.sort((a, b) => a - b) : undefined;
}
