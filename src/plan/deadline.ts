/** The time limit of the planner's searches: a symbol thrown through them when time is up, and a cheap clock check. */

/** Thrown through a search when its time is up; whoever started the search catches it and keeps what it found. */
export const OUT_OF_TIME: unique symbol = Symbol("out of time");

/**
 * A check for hot loops that throws OUT_OF_TIME once `performance.now()` passes `deadline`. It looks at the
 * clock only every `every` calls: reading it costs far more than a search step.
 */
export function deadlineCheck(deadline: number, every = 4096): () => void {
  let tick = 0;
  return () => {
    if (--tick >= 0) return;
    tick = every;
    if (performance.now() > deadline) throw OUT_OF_TIME;
  };
}
