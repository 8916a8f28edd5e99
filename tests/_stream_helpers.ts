/**
 * Shared pieces of the transport tests: a recording protocol, byte
 * patterns, and a loop runner with the fd-leak check.
 *
 * @module
 */
import type { AbstractServer } from "../mod.ts";
import { Socket } from "../net/mod.ts";
import { Protocol, type Transport } from "../transports/mod.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";
import type { LoopCase, TestLoop } from "./_loops.ts";

/** Runs `fn` as the main task of a fresh loop of `lc`, checking that no fd leaks. */
export function onLoop(
  lc: LoopCase,
  fn: (loop: TestLoop, signal: AbortSignal) => Promise<void>,
): () => Promise<void> {
  return () =>
    assertNoFdLeak(async () => {
      using loop = lc.make();
      await loop.runUntilComplete((signal: AbortSignal) => fn(loop, signal));
    });
}

/** `n` bytes of a pattern that depends on `seed` and the position. */
export function pattern(n: number, seed = 0, offset = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = i + offset;
    out[i] = (k * 131 + (k >>> 8) * 7 + seed) & 0xff;
  }
  return out;
}

/** Joins `chunks`. */
export function concat(chunks: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.byteLength;
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** Whether `a` and `b` hold the same bytes (fast, with a clear failure message). */
export function sameBytes(a: Uint8Array, b: Uint8Array): string | null {
  if (a.byteLength !== b.byteLength) return `lengths differ: ${a.byteLength} != ${b.byteLength}`;
  for (let i = 0; i < a.byteLength; i++) {
    if (a[i] !== b[i]) return `first difference at byte ${i}: ${a[i]} != ${b[i]}`;
  }
  return null;
}

/** A protocol that records what happens to it. */
export class Recorder extends Protocol {
  transport!: Transport;
  events: string[] = [];
  chunks: Uint8Array[] = [];
  received = 0;
  keepOpenOnEof = false;
  made: PromiseWithResolvers<Transport> = Promise.withResolvers();
  lost: PromiseWithResolvers<Error | null> = Promise.withResolvers();
  eof: PromiseWithResolvers<void> = Promise.withResolvers();
  onData?: (data: Uint8Array) => void;
  onMade?: (t: Transport) => void;

  override connectionMade(transport: Transport): void {
    this.transport = transport;
    this.events.push("made");
    this.onMade?.(transport);
    this.made.resolve(transport);
  }
  override dataReceived(data: Uint8Array): void {
    if (this.events.at(-1) !== "data") this.events.push("data");
    this.chunks.push(data);
    this.received += data.byteLength;
    this.onData?.(data);
  }
  override eofReceived(): boolean {
    this.events.push("eof");
    this.eof.resolve();
    return this.keepOpenOnEof;
  }
  override connectionLost(exc: Error | null): void {
    this.events.push("lost");
    this.lost.resolve(exc);
  }
  override pauseWriting(): void {
    this.events.push("pause");
  }
  override resumeWriting(): void {
    this.events.push("resume");
  }
  /** Everything received, joined. */
  bytes(): Uint8Array {
    return concat(this.chunks);
  }
}

/** The port of a TCP server's first socket. */
export function portOf(server: AbstractServer, i = 0): number {
  return (server.sockets[i].getsockname() as { port: number }).port;
}

/** Whether this host can bind `::1`. */
export function hasIPv6(): boolean {
  try {
    using s = new Socket({ family: "inet6" });
    s.bind({ transport: "tcp", hostname: "::1", port: 0 });
    return true;
  } catch {
    return false;
  }
}

/** Resolves after `ms` of loop time. */
export function tick(loop: TestLoop, ms = 1): Promise<void> {
  return new Promise<void>((r) => loop.callLater(ms, () => r()));
}

/** Waits (on the loop's clock) until `cond()` holds. */
export async function until(loop: TestLoop, cond: () => boolean): Promise<void> {
  while (!cond()) await tick(loop, 1);
}
