/**
 * Small helpers the transports share: the loop they need, telling OS
 * errors from bugs, taking bytes in, reporting to the loop's exception
 * handler, the warning for writes after the connection was lost, and the
 * start-up sequence of a transport's protocol.
 *
 * @module
 */
import { describe, isOSError } from "../../ffi/sys.ts";
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import type { Future } from "../future.ts";
import { setResultUnlessCancelled } from "../_signal.ts";
import type { BaseTransport } from "../../transports/base_transport.ts";
import type { BaseProtocol, Protocol } from "../../transports/protocol.ts";
import type { BufferedProtocol } from "../../transports/buffered_protocol.ts";

/** What the transports need of their loop. */
export type TransportLoop = Pick<
  AbstractEventLoop,
  | "addReader"
  | "removeReader"
  | "addWriter"
  | "removeWriter"
  | "callSoon"
  | "callExceptionHandler"
  | "getDebug"
>;

/** asyncio's `LOG_THRESHOLD_FOR_CONNLOST_WRITES`: writes after the loss before a warning. */
export const LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5;

/**
 * asyncio's warning for a write after the connection was lost: `message`,
 * once `count` such writes came before (the caller counts this one after).
 */
export function warnWriteAfterLoss(count: number, message: string): void {
  if (count >= LOG_THRESHOLD_FOR_CONNLOST_WRITES) console.warn(message);
}

/**
 * Whether `e` is an error from the OS (asyncio's `OSError`), as opposed to a
 * bug: it carries a numeric `errno` and a `code` name, or is a `Deno.errors`
 * class (`ffi/os_error.ts`).
 */
export { isOSError };

/** `exc` as an `Error` (what `connectionLost()` gets). */
export function asError(exc: unknown): Error {
  return exc instanceof Error ? exc : new Error(String(exc));
}

/**
 * `data` as a `Uint8Array` view (any ArrayBufferView, and an ArrayBuffer
 * unless `arrayBuffer` is `false`), else a `TypeError` naming `what`.
 */
export function toBytes(data: unknown, what: string, arrayBuffer = true): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (arrayBuffer && data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(
    `${what}: data must be a Uint8Array (or another ArrayBufferView), not ${describe(data)}`,
  );
}

/** The non-empty buffers of `writelines(list)`, as views (a `TypeError` unless `list` is iterable). */
export function writelinesViews(list: Iterable<Uint8Array>): Uint8Array[] {
  if (list === null || typeof (list as Iterable<Uint8Array>)?.[Symbol.iterator] !== "function") {
    throw new TypeError("writelines(): expected an iterable of Uint8Array");
  }
  const views: Uint8Array[] = [];
  for (const d of list) {
    const v = toBytes(d, "writelines()");
    if (v.byteLength !== 0) views.push(v);
  }
  return views;
}

/** The loop as the helpers need it. */
type ReportLoop = Pick<AbstractEventLoop, "callExceptionHandler">;

/** Hands `exc` to the loop's exception handler with the transport and protocol as context. */
export function reportError(
  loop: ReportLoop,
  message: string,
  exc: unknown,
  transport: BaseTransport,
  protocol: BaseProtocol,
): void {
  loop.callExceptionHandler({ message, exception: exc, transport, protocol });
}

/**
 * A transport's start, each on its own later turn of `loop`: the
 * protocol's `connectionMade()`, then `thenStart` (watching the fd), then
 * the waiter's result (unless it was cancelled).
 */
export function startProtocol(
  loop: Pick<AbstractEventLoop, "callSoon">,
  connectionMade: () => void,
  thenStart: (() => void) | null,
  waiter: Future<void> | null | undefined,
): void {
  loop.callSoon(connectionMade);
  if (thenStart !== null) loop.callSoon(thenStart);
  if (waiter) loop.callSoon(setResultUnlessCancelled, waiter, undefined);
}

/** Whether `protocol` reads into its own buffer (a `BufferedProtocol`: it has `getBuffer`). */
export function isBuffered(protocol: unknown): boolean {
  return typeof (protocol as { getBuffer?: unknown })?.getBuffer === "function";
}

/**
 * What a `BufferedProtocol`'s `getBuffer()` returned, checked, as a
 * `Uint8Array` over the same memory (any typed array or DataView is taken).
 */
export function readTarget(buf: unknown): Uint8Array {
  if (!ArrayBuffer.isView(buf)) throw new TypeError("getBuffer() must return a Uint8Array");
  if (buf.byteLength === 0) throw new Error("getBuffer() returned an empty buffer");
  return buf instanceof Uint8Array
    ? buf
    : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Hands one completed read to `protocol`: `dataReceived(data)`, or, for a
 * `BufferedProtocol`, copied through `getBuffer()`/`bufferUpdated()` as
 * many times as its buffers need (stopping if the transport starts closing).
 * A protocol call that throws goes to `fatal` with asyncio's message.
 */
export function deliverRead(
  protocol: BaseProtocol,
  buffered: boolean,
  data: Uint8Array,
  fatal: (e: unknown, message: string) => void,
  closing: () => boolean,
): void {
  if (!buffered) {
    try {
      (protocol as Protocol).dataReceived(data);
    } catch (e) {
      fatal(e, "Fatal error: protocol.dataReceived() call failed.");
    }
    return;
  }
  const p = protocol as BufferedProtocol;
  let off = 0;
  while (off < data.length) {
    let buf: Uint8Array;
    try {
      buf = readTarget(p.getBuffer(-1)); // any size: the rest goes in the next one
    } catch (e) {
      fatal(e, "Fatal error: protocol.getBuffer() call failed.");
      return;
    }
    const n = Math.min(buf.length, data.length - off);
    buf.set(data.subarray(off, off + n));
    off += n;
    try {
      p.bufferUpdated(n);
    } catch (e) {
      fatal(e, "Fatal error: protocol.bufferUpdated() call failed.");
      return;
    }
    if (closing()) return;
  }
}
