/** CRC-32 (IEEE) for checksummed journal records and snapshots: zlib's native one where the runtime has it. */
import * as zlib from "node:zlib";

const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}

/** The same checksum in JavaScript, for runtimes without zlib.crc32 (Node before 20.15). */
function crc32Js(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** The CRC-32 of some bytes. */
export const crc32: (bytes: Uint8Array) => number = typeof native === "function" ? native : crc32Js;
