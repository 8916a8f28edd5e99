/**
 * The accept side of a server on a readiness loop (asyncio's
 * `selector_events._accept_connection`): watch the listening socket, accept
 * what it reports, pause after running out of fds.
 *
 * @module
 */
import type { Address, Socket } from "../../net/mod.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import type { TimerHandle } from "../handle.ts";
import type { LoopHooks, ServingTarget } from "../base/loop_hooks.ts";

const RESOURCE_ERRORS = new Set(["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]);

type AcceptLoop = Pick<
  AbstractEventLoop,
  "addReader" | "removeReader" | "callLater" | "callExceptionHandler"
>;

/** Accepts on the listening sockets of one loop's servers. */
export class Acceptor {
  #loop: AcceptLoop;
  #hooks: LoopHooks;
  #retries = new Map<Socket, TimerHandle>();

  constructor(loop: AcceptLoop, hooks: LoopHooks) {
    this.#loop = loop;
    this.#hooks = hooks;
  }

  /** Starts accepting on `sock` for `target`. */
  start(target: ServingTarget, sock: Socket): void {
    this.#loop.addReader(sock.fileno(), Acceptor.#onAcceptable, this, target, sock);
  }

  /** Stops accepting on `sock` (before it is closed). */
  stop(sock: Socket): void {
    this.#retries.get(sock)?.cancel();
    this.#retries.delete(sock);
    // A socket closed by its owner first has no fd left to name (-1 is no fileobj).
    if (!sock.closed) this.#loop.removeReader(sock.fileno());
  }

  /** Forgets every pending retry (the loop is closing). */
  clear(): void {
    for (const t of this.#retries.values()) t.cancel();
    this.#retries.clear();
  }

  static #onAcceptable(self: Acceptor, target: ServingTarget, sock: Socket): void {
    self.#accept(target, sock);
  }

  static #onRetry(self: Acceptor, target: ServingTarget, sock: Socket): void {
    self.#retries.delete(sock);
    if (target.isServing() && !sock.closed) self.start(target, sock);
  }

  // One readiness event may stand for many pending connections: accept up to
  // `backlog` of them (asyncio's _accept_connection, bpo-27906).
  #accept(target: ServingTarget, sock: Socket): void {
    for (let i = 0; i < Math.max(1, target.backlog); i++) {
      let conn: Socket, addr: Address;
      try {
        [conn, addr] = sock.accept();
      } catch (e) {
        if (e instanceof Deno.errors.WouldBlock) return;
        if (e instanceof Deno.errors.ConnectionAborted) continue; // gone before we took it
        if (RESOURCE_ERRORS.has((e as { code?: string }).code ?? "")) {
          // Level-triggered selectors would report the socket again at once: stop
          // watching it for a while.
          this.#loop.callExceptionHandler({
            message: "socket.accept() out of system resource",
            exception: e,
            socket: sock,
          });
          this.#loop.removeReader(sock.fileno());
          this.#retries.get(sock)?.cancel();
          this.#retries.set(
            sock,
            this.#loop.callLater(target.acceptRetryDelay, Acceptor.#onRetry, this, target, sock),
          );
          return;
        }
        throw e; // the loop reports it, as asyncio
      }
      this.#connectionAccepted(target, conn, addr);
    }
  }

  #connectionAccepted(target: ServingTarget, conn: Socket, addr: Address): void {
    let protocol: StreamProtocol | undefined;
    try {
      protocol = target.protocolFactory();
      this.#hooks.makeSocketTransport(conn, protocol, {
        extra: { peername: addr },
        server: target.hooks,
        noDelay: target.noDelay,
      });
    } catch (e) {
      conn.close();
      this.#loop.callExceptionHandler({
        message: "Error on transport creation for incoming connection",
        exception: e,
        protocol,
      });
    }
  }
}
