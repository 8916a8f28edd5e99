/**
 * `openUnixConnection` and `startUnixServer` (asyncio's
 * `open_unix_connection()` and `start_unix_server()`): streams over unix
 * sockets.
 *
 * @module
 */
import type { AbstractServer } from "../loop/abstract_server.ts";
import type {
  CreateUnixConnectionOptions,
  CreateUnixServerOptions,
} from "../loop/connection_options.ts";
import { getEventLoop } from "../policy.ts";
import { splitLimit, type StreamPair } from "./open_connection.ts";
import { checkCallback } from "./start_server.ts";
import { StreamReader } from "./stream_reader.ts";
import { type ClientConnectedCallback, StreamReaderProtocol } from "./stream_reader_protocol.ts";
import { StreamWriter } from "./stream_writer.ts";

/** Options of {@linkcode openUnixConnection}: `createUnixConnection`'s, plus `limit`. */
export interface OpenUnixConnectionOptions extends CreateUnixConnectionOptions {
  /** The reader's buffer limit in bytes (default 64 KiB). */
  limit?: number;
}

/** Options of {@linkcode startUnixServer}: `createUnixServer`'s, plus `limit`. */
export interface StartUnixServerOptions extends CreateUnixServerOptions {
  /** Each reader's buffer limit in bytes (default 64 KiB). */
  limit?: number;
}

/**
 * Connects to the unix socket `path` (or wraps `options.sock`) and
 * resolves to `[reader, writer]`, as {@linkcode openConnection} does.
 *
 * @example
 * ```ts ignore
 * import { openUnixConnection } from "@aio/loop";
 * const [reader, writer] = await openUnixConnection("/tmp/app.sock");
 * ```
 */
export async function openUnixConnection(
  path?: string | null,
  options: OpenUnixConnectionOptions = {},
): Promise<StreamPair> {
  const [limit, rest] = splitLimit(options, "openUnixConnection()");
  const loop = getEventLoop();
  const reader = new StreamReader({ limit });
  const protocol = new StreamReaderProtocol(reader, { loop });
  const [transport] = await loop.createUnixConnection(() => protocol, path, rest);
  return [reader, new StreamWriter(transport, protocol, { reader, loop })];
}

/**
 * Listens on the unix socket `path` (or `options.sock`) and runs
 * `clientConnected(reader, writer, signal)` for each connection, as
 * {@linkcode startServer} does.
 *
 * @example
 * ```ts ignore
 * import { startUnixServer } from "@aio/loop";
 * await using server = await startUnixServer(async (reader, writer) => {
 *   writer.write(await reader.readline());
 *   writer.close();
 * }, "/tmp/app.sock");
 * ```
 */
export function startUnixServer(
  clientConnected: ClientConnectedCallback,
  path?: string | null,
  options: StartUnixServerOptions = {},
): Promise<AbstractServer> {
  try {
    checkCallback(clientConnected, "startUnixServer()");
    const [limit, rest] = splitLimit(options, "startUnixServer()");
    const loop = getEventLoop();
    const factory = (): StreamReaderProtocol =>
      new StreamReaderProtocol(new StreamReader({ limit }), { clientConnected, loop });
    return loop.createUnixServer(factory, path, rest);
  } catch (e) {
    return Promise.reject(e);
  }
}
