/** The messages between the bank and the planner's worker thread. */
import type { RobberyPlan } from "./robbery.ts";

/** What the worker is sent: a network without bank codes, the target and when to stop. */
export interface PlanRequest {
  banks: { clients: bigint; amount: bigint }[];
  target: bigint;
  /** Wall-clock ms (see wallClock). */
  deadline: number;
}

/** What the worker answers: the plan, with the banks to rob as indices into the request's banks. */
export type PlanReply =
  | (Omit<Extract<RobberyPlan, { reachable: true }>, "banks"> & { banks: number[] })
  | Extract<RobberyPlan, { reachable: false }>;

/** Now in ms, comparable between threads (each has its own performance.now() origin). */
export const wallClock = (): number => performance.timeOrigin + performance.now();
