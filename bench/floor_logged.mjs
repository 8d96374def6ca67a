// bench/floor_server.mjs with Redis' durability model and the bank's per-command log line (FLOOR_SYNC=1,
// FLOOR_LOG=1), as a file of its own so that bench/side_by_side.ts can run it beside the other variants.
process.env.FLOOR_SYNC = "1";
process.env.FLOOR_LOG = "1";
await import("./floor_server.mjs");
