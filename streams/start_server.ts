/**
 * `startServer` (asyncio's `asyncio.start_server()`): serve connections
 * as `StreamReader`/`StreamWriter` pairs.
 *
 * @module
 */
import type { CreateServerOptions } from "../loop/connection_options.ts";
import type { AbstractServer } from "../loop/abstract_server.ts";
import { getEventLoop } from "../policy.ts";
import { splitLimit } from "./open_connection.ts";
import { StreamReader } from "./stream_reader.ts";
import { type ClientConnectedCallback, StreamReaderProtocol } from "./stream_reader_protocol.ts";

/** Options of {@linkcode startServer}: `createServer`'s, plus the readers' `limit`. */
export interface StartServerOptions extends CreateServerOptions {
  /** Each reader's buffer limit in bytes (default 64 KiB). */
  limit?: number;
}

/** Throws unless `cb` is a function. */
export function checkCallback(cb: unknown, what: string): void {
  if (typeof cb !== "function") {
    throw new TypeError(`${what}: clientConnected must be a function, got ${typeof cb}`);
  }
}

/**
 * Listens on `options.host`(s)/`options.port` (or `options.sock`) on the
 * running loop, else the one `getEventLoop()` gives. For each connection,
 * `clientConnected(reader, writer, signal)` runs in a new task; if it
 * throws, the error goes to the loop's exception handler and the
 * connection is closed. Takes every option of `loop.createServer()` and
 * `limit`.
 *
 * @example
 * ```ts ignore
 * import { run, startServer } from "@aio/loop";
 * await run(async (signal) => {
 *   await using server = await startServer(async (reader, writer) => {
 *     for await (const line of reader) {
 *       writer.write(line);
 *       await writer.drain();
 *     }
 *     writer.close();
 *   }, { host: "127.0.0.1", port: 8888 });
 *   await server.serveForever({ signal });
 * });
 * ```
 */
export function startServer(
  clientConnected: ClientConnectedCallback,
  options: StartServerOptions = {},
): Promise<AbstractServer> {
  try {
    checkCallback(clientConnected, "startServer()");
    const [limit, rest] = splitLimit(options, "startServer()");
    const loop = getEventLoop();
    const factory = (): StreamReaderProtocol =>
      new StreamReaderProtocol(new StreamReader({ limit }), { clientConnected, loop });
    return loop.createServer(factory, rest);
  } catch (e) {
    return Promise.reject(e);
  }
}
