/**
 * `AbstractServer`: what `createServer()`/`createUnixServer()` resolve to
 * (asyncio's `events.AbstractServer`).
 *
 * @module
 */
import type { Socket } from "../net/mod.ts";
import type { AbstractEventLoop } from "./abstract_event_loop.ts";

/** Options of `serveForever()`. */
export interface ServeForeverOptions {
  /** Aborting it closes the server, waits for it, and rejects with `CancelledError`. */
  signal?: AbortSignal;
}

/**
 * A server: listening sockets and the connections they accepted.
 *
 * @example
 * ```ts
 * import { type AbstractServer, Protocol, SelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * await loop.runUntilComplete(async () => {
 *   const server: AbstractServer = await loop.createServer(() => new Protocol(), {
 *     host: "127.0.0.1",
 *     port: 0,
 *   });
 *   console.log(server.isServing()); // true
 *   server.close();
 *   await server.waitClosed();
 * });
 * ```
 */
export interface AbstractServer extends AsyncDisposable {
  /** The loop the server runs on. */
  getLoop(): AbstractEventLoop;
  /** Whether the server accepts connections. */
  isServing(): boolean;
  /** The listening sockets (a copy; empty once closed). */
  readonly sockets: readonly Socket[];
  /** Starts accepting if it was made with `startServing: false`. */
  startServing(): Promise<void>;
  /** Serves until closed or `options.signal` aborts; always rejects with `CancelledError`. */
  serveForever(options?: ServeForeverOptions): Promise<void>;
  /** Stops listening and closes the listening sockets; connections stay. */
  close(): void;
  /** Closes every connection of the server. */
  closeClients(): void;
  /** Aborts every connection of the server. */
  abortClients(): void;
  /** Resolves once the server is closed and all its connections are gone. */
  waitClosed(): Promise<void>;
}
