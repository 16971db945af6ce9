/**
 * CRC32c (Castagnoli, RFC 4960 appendix B), which the PROXY v2 CRC32C TLV carries. node:zlib's crc32 is the
 * IEEE polynomial, a different checksum, so a byte-wise table is built here once at load.
 */

const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}

/**
 * CRC32c of `bytes`, computed as if the 4 bytes at `zeroAt` (if given) were zero: the checksum field of a header
 * counts as zero while it is computed, and skipping it avoids copying the header to clear it.
 */
export function crc32c(bytes: Uint8Array, zeroAt = -1): number {
  const zeroEnd = zeroAt < 0 ? -1 : zeroAt + 4;
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    const b = i >= zeroAt && i < zeroEnd ? 0 : (bytes[i] as number);
    crc = (TABLE[(crc ^ b) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
