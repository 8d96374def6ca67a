/** The messages between the bank, the planners' pool thread (pool.ts) and a planner thread (worker.ts). */
import type { RobberyPlan } from "./robbery.ts";

/** What a planner is sent: a network without bank codes, the target and when to stop. */
export interface PlanRequest {
  banks: { clients: bigint; amount: bigint }[];
  target: bigint;
  /** Wall-clock ms (see wallClock). */
  deadline: number;
}

/** What a planner answers: the plan, with the banks to rob as indices into the request's banks. */
export type PlanReply =
  | (Omit<Extract<RobberyPlan, { reachable: true }>, "banks"> & { banks: number[] })
  | Extract<RobberyPlan, { reachable: false }>;

/** What the bank sends the pool: a plan to make, or one it no longer waits for (its planner is stopped). */
export type PoolRequest = { id: number; plan: PlanRequest } | { id: number; cancel: true };

/** What the pool answers for a plan: the planner's reply, or why its planner failed. */
export type PoolReply = { id: number; reply: PlanReply } | { id: number; error: string };

/** Now in ms, comparable between threads (each has its own performance.now() origin). */
export const wallClock = (): number => performance.timeOrigin + performance.now();
