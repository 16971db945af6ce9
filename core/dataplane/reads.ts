import net from 'node:net';

/*
 * Reads without the stream machinery. By default each socket read costs Node a fresh 64 KiB allocation shrunk to
 * the bytes read, a new ArrayBuffer, and a trip through Readable.push and 'data'. A socket given `onread` reads
 * into a buffer we supply and calls us directly. All proxied sockets read into the one buffer below, and the
 * callback copies what it needs before returning (the bytes are valid only until the next read of any socket):
 * a socket write may keep a reference to what it was given until the kernel takes it, so the shared buffer itself
 * must never be written. Measured on keep-alive traffic this cut the proxy's CPU per request by about a fifth
 * against 'data' events (bench/RESULTS.md).
 */

/** Called with the bytes read (valid only during the call); `this` is the socket. False pauses reading. */
export type ReadCallback = (this: net.Socket, nread: number, buffer: Buffer) => boolean;

const SIZE = 64 * 1024;
const shared = Buffer.allocUnsafe(SIZE);
const sharedBuffer = (): Buffer => shared;

/** A socket to connect that reads through `callback`. */
export function readingSocket(callback: ReadCallback, allowHalfOpen: boolean): net.Socket {
  return new net.Socket({ allowHalfOpen, onread: { buffer: sharedBuffer, callback: callback as (n: number, b: Uint8Array) => boolean } });
}

interface Internals {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}

/**
 * Node offers `onread` only when it creates a socket for us to connect; an accepted socket gets it by setting the
 * same three fields the constructor sets and pointing its handle at the buffer. Found once by name; when a Node
 * version lacks them, accepted sockets keep 'data' events (readShared returns false).
 */
const internals: Internals | undefined = (() => {
  const probe = readingSocket(() => true, false);
  const find = (name: string) => Object.getOwnPropertySymbols(probe).find((s) => s.description === name);
  const buffer = find('kBuffer');
  const callback = find('kBufferCb');
  const generator = find('kBufferGen');
  probe.destroy();
  return buffer && callback && generator ? { buffer, callback, generator } : undefined;
})();

type Handle = { useUserBuffer?: (buffer: Uint8Array) => void };

/** Makes an accepted socket read through `callback` from now on; false = not possible here, use 'data' events. */
export function readShared(socket: net.Socket, callback: ReadCallback): boolean {
  const handle = (socket as unknown as { _handle: Handle | null })._handle;
  if (internals === undefined || handle === null || typeof handle.useUserBuffer !== 'function') return false;
  const s = socket as unknown as Record<symbol, unknown>;
  s[internals.buffer] = shared;
  s[internals.generator] = sharedBuffer;
  s[internals.callback] = callback;
  handle.useUserBuffer(shared);
  return true;
}

/** A copy of the bytes just read, owned by the caller (the shared buffer is reused by the next read). */
export function takeBytes(buffer: Buffer, nread: number): Buffer {
  const out = Buffer.allocUnsafe(nread); // small sizes come from Node's pool
  buffer.copy(out, 0, 0, nread);
  return out;
}
