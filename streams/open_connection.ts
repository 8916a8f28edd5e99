/**
 * `openConnection` (asyncio's `asyncio.open_connection()`): connect and get
 * a `StreamReader`/`StreamWriter` pair.
 *
 * @module
 */
import type { CreateConnectionOptions } from "../loop/connection_options.ts";
import { getEventLoop } from "../policy.ts";
import { StreamReader } from "./stream_reader.ts";
import { StreamReaderProtocol } from "./stream_reader_protocol.ts";
import { StreamWriter } from "./stream_writer.ts";

/** Options of {@linkcode openConnection}: `createConnection`'s, plus the reader's `limit`. */
export interface OpenConnectionOptions extends CreateConnectionOptions {
  /** The reader's buffer limit in bytes (default 64 KiB). */
  limit?: number;
}

/** A connection's two halves, as `openConnection` returns them. */
export type StreamPair = [reader: StreamReader, writer: StreamWriter];

/** Splits `limit` off the options, checking them. */
export function splitLimit<O extends { limit?: number }>(
  options: O,
  what: string,
): [number | undefined, Omit<O, "limit">] {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${what}: options must be an object`);
  }
  const { limit, ...rest } = options;
  if (limit !== undefined) new StreamReader({ limit }); // checks it now, not per connection
  return [limit, rest];
}

/**
 * Connects to `options.host`/`options.port` (or wraps `options.sock`) on
 * the running loop, else the one `getEventLoop()` gives, and resolves to
 * `[reader, writer]`. Takes every option of `loop.createConnection()`
 * (`happyEyeballsDelay`, `localAddr`, `signal`, ...) and `limit`.
 *
 * @example
 * ```ts ignore
 * import { openConnection, run } from "@aio/loop";
 * await run(async () => {
 *   const [reader, writer] = await openConnection({ host: "127.0.0.1", port: 8888 });
 *   writer.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
 *   console.log(new TextDecoder().decode(await reader.read()));
 *   writer.close();
 *   await writer.waitClosed();
 * });
 * ```
 */
export async function openConnection(options: OpenConnectionOptions = {}): Promise<StreamPair> {
  const [limit, rest] = splitLimit(options, "openConnection()");
  const loop = getEventLoop();
  const reader = new StreamReader({ limit });
  const protocol = new StreamReaderProtocol(reader, { loop });
  const [transport] = await loop.createConnection(() => protocol, rest);
  return [reader, new StreamWriter(transport, protocol, { reader, loop })];
}
