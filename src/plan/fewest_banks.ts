/**
 * Pass 3 of the robbery planner: the fewest banks whose clients sum to exactly C and whose residues
 * (amount − slope × clients) sum to exactly R. No I/O; exact in bigint, floating point only chooses.
 *
 * For each count k upwards:
 *   - a relaxation refutes k when some direction (p, q) separates: the k smallest values of
 *     p × clients + q × residue sum to more than p × C + q × R, or the k largest to less. That is the LP
 *     relaxation (k banks, fractions allowed); the directions are found in floating point, then checked in bigint;
 *   - past it, a depth-first search for exactly k banks decides, pruned at every node by the same test on the
 *     banks still undecided. It goes through the banks in the order of the direction that comes closest to
 *     separating, from the end the LP takes: its first dive is the LP's own choice, and on strongly correlated
 *     networks with noise a set turns up within a few thousand nodes (a local search of swaps from the LP's
 *     choice, tried first, was slower and missed half of them). Past half the banks it looks for the ones
 *     left out instead, and the last two banks of a set come from a table of pairs by their sums.
 * The first k with a set is the least.
 */
import { deadlineCheck } from "./deadline.ts";
import { argMax } from "./golden_section.ts";
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
}

/**
 * Positions (into `items`) of the fewest items with clients summing to exactly `sums.clients` and residues to
 * exactly `sums.residue`, fewer than `fewerThan`; undefined when there is no such set. Throws OUT_OF_TIME
 * past the deadline.
 */
export function fewestBanks(
  items: readonly CountItem[],
  sums: CountItem,
  { fewerThan, deadline }: FewestBanksOptions,
): number[] | undefined {
  const check = deadlineCheck(deadline);
  const most = Math.min(fewerThan - 1, items.length);
  const relaxation = new Relaxation(items, sums);
  for (let k = 0; k <= most; k++) {
    if (relaxation.refutes(k)) continue;
    const positions = exhaustive(items, sums, k, relaxation.pruning(k), check);
    if (positions) return positions;
  }
  return undefined;
}

/** Exact multipliers: an item's value in this direction is p × clients + q × residue. */
interface Multipliers {
  readonly p: bigint;
  readonly q: bigint;
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

/** Angles of the coarse grid over directions: on the noise networks 16 already find every refutation 256 do; 64 leave a margin. */
const GRID = 64;

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
    const around = this.gridAngle[k]!;
    return argMax((angle) => this.gap(angle, k).gap, around - Math.PI / GRID, around + Math.PI / GRID, 40);
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

  /**
   * The directions the exhaustive search for count k prunes with: first the tightest one, turned so that the
   * LP takes its smallest values, then clients and residues.
   */
  pruning(k: number): Multipliers[] {
    const angle = this.tunedAngle(k);
    const { p, q } = this.exact(angle);
    const tight = this.gap(angle, k).low ? { p, q } : { p: -p, q: -q };
    return [tight, ...this.directions.slice(0, 2)];
  }

  /** The direction of `angle` in integers (a fine rounding of it: any direction is sound). */
  private exact(angle: number): Direction {
    const a = Math.cos(angle) / this.sx;
    const b = Math.sin(angle) / this.sy;
    const scale = 2 ** (52 - Math.ceil(Math.log2(Math.max(Math.abs(a), Math.abs(b)))));
    // values past the doubles' range leave nothing to round: fall back on clients alone
    if (!Number.isFinite(a * scale) || !Number.isFinite(b * scale)) return this.directions[0]!;
    return new Direction(BigInt(Math.round(a * scale)), BigInt(Math.round(b * scale)), this.items, this.sums);
  }
}

/**
 * Depth-first search for exactly k items with the sums, in the tight direction's order, every node tested
 * against the relaxation's directions on the items still undecided. Identical items are taken as a prefix of
 * their run, so no set is visited twice.
 */
function exhaustive(items: readonly CountItem[], sums: CountItem, k: number, directions: readonly Multipliers[], check: () => void): number[] | undefined {
  if (2 * k > items.length) {
    // rather the fewer banks left out: their sums are the totals less these, the LP's side is the other end
    const left = { clients: -sums.clients, residue: -sums.residue };
    for (const it of items) {
      left.clients += it.clients;
      left.residue += it.residue;
    }
    const [tight, ...others] = directions;
    const out = exhaustive(items, left, items.length - k, [{ p: -tight!.p, q: -tight!.q }, ...others], check);
    const outside = new Set(out);
    return out && items.map((_, i) => i).filter((i) => !outside.has(i));
  }
  const tight = directions[0]!;
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
  const pairs = PairTable.exactFor(cs, rs) ? new PairTable(cs, rs) : undefined;
  const taken: number[] = [];
  const search = (j: number, r: number, c: bigint, residue: bigint): boolean => {
    check();
    if (r === 0) return c === 0n && residue === 0n;
    if (r === 1) {
      for (let a = j; a < m; a++) if (cs[a] === c && rs[a] === residue) return taken.push(order[a]!) > 0;
      return false;
    }
    if (r === 2 && pairs) {
      const pair = pairs.find(j, c, residue);
      return pair !== undefined && taken.push(order[pair[0]]!, order[pair[1]]!) > 0;
    }
    // leaving banks out changes neither r nor the sums still wanted: one loop, the targets computed once
    const targets = directions.map((d) => d.p * c + d.q * residue);
    for (; j < m; j = nextDistinct[j]!) {
      check();
      for (let d = 0; d < targets.length; d++) if (!suffixes[d]!.spans(j, r, targets[d]!)) return false;
      taken.push(order[j]!);
      if (search(j + 1, r - 1, c - cs[j]!, residue - rs[j]!)) return true;
      taken.pop();
    }
    return false;
  };
  return search(0, k, sums.clients, sums.residue) ? taken.sort((a, b) => a - b) : undefined;
}

/** Every pair of items by its sums, so that the last two items of a set are looked up, not searched for. */
class PairTable {
  /** Pair t is (first[t], second[t]); next[t] is the next pair in its bucket, or -1; heads[h] the first in bucket h. */
  private readonly first: Int32Array;
  private readonly second: Int32Array;
  private readonly next: Int32Array;
  private readonly heads: Int32Array;
  private readonly mask: number;

  constructor(
    private readonly cs: readonly bigint[],
    private readonly rs: readonly bigint[],
  ) {
    const m = cs.length;
    const size = (m * (m - 1)) / 2;
    this.first = new Int32Array(size);
    this.second = new Int32Array(size);
    this.next = new Int32Array(size);
    this.heads = new Int32Array(2 ** Math.ceil(Math.log2(2 * size + 2))).fill(-1);
    this.mask = this.heads.length - 1;
    // sums of two items are exact in doubles (exactFor), so a pair's bucket costs no bigint work
    const cf = cs.map(Number);
    const rf = rs.map(Number);
    let t = 0;
    for (let a = 0; a < m; a++) {
      for (let b = a + 1; b < m; b++, t++) {
        const h = this.bucket(cf[a]! + cf[b]!, rf[a]! + rf[b]!);
        this.first[t] = a;
        this.second[t] = b;
        this.next[t] = this.heads[h]!;
        this.heads[h] = t;
      }
    }
  }

  /** Whether every pair's sums are exact in doubles, so that equal sums land in the same bucket. */
  static exactFor(cs: readonly bigint[], rs: readonly bigint[]): boolean {
    const small = (x: bigint) => x < 2n ** 51n && x > -(2n ** 51n);
    return cs.every(small) && rs.every(small);
  }

  /** A hash of integral doubles (low and high 32 bits of each); collisions cost a comparison in find. */
  private bucket(c: number, r: number): number {
    const h = Math.imul(c | 0, 0x9e3779b1) ^ Math.imul((c / 4294967296) | 0, 0x85ebca6b) ^ Math.imul(r | 0, 0xc2b2ae35) ^ ((r / 4294967296) | 0);
    return (h ^ (h >>> 15)) & this.mask;
  }

  /** Positions a < b, both from j on, of two items summing to exactly (c, r). */
  find(j: number, c: bigint, r: bigint): [number, number] | undefined {
    if (!PairTable.exactFor([c], [r])) return undefined;
    for (let t = this.heads[this.bucket(Number(c), Number(r))]!; t >= 0; t = this.next[t]!) {
      const a = this.first[t]!;
      const b = this.second[t]!;
      if (a >= j && this.cs[a]! + this.cs[b]! === c && this.rs[a]! + this.rs[b]! === r) return [a, b];
    }
    return undefined;
  }
}
