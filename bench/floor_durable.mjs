// bench/floor_server.mjs with Redis' durability model (FLOOR_SYNC=1), as a file of its own so that
// bench/side_by_side.ts can run both variants in one comparison.
process.env.FLOOR_SYNC = "1";
await import("./floor_server.mjs");
