/**
 * `SSLProtocol` (asyncio's `sslproto.SSLProtocol`, CPython 3.11+): the TLS
 * engine between a stream transport and the application's protocol. The
 * transport's bytes go into an OpenSSL memory BIO; what OpenSSL writes to
 * the other memory BIO goes to the transport. The application sees
 * `SSLProtocolTransport`, a `Transport` whose `write()` encrypts and whose
 * `close()` sends close_notify first. The same code serves every transport
 * kind (TCP, unix sockets, a Proactor's).
 *
 * @module
 */
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import type { Future } from "../future.ts";
import type { TimerHandle } from "../handle.ts";
import { CancelledError } from "../errors.ts";
import {
  type BaseTransport,
  Transport,
  type WriteBufferLimits,
  type WriteBufferLimitsOptions,
} from "../../transports/base_transport.ts";
import { BufferedProtocol } from "../../transports/buffered_protocol.ts";
import type { BaseProtocol, Protocol } from "../../transports/protocol.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import { normalizeLimits } from "./_flow_control.ts";
import { POOLED_MAX, READ_BUF, takeRead } from "./_read_pool.ts";
import { _freshMemory } from "./read_memory.ts";
import {
  isBuffered,
  isOSError,
  LOG_THRESHOLD_FOR_CONNLOST_WRITES,
  readTarget,
  toBytes,
  writelinesViews,
} from "./_transport_util.ts";
import {
  CLOSED,
  type PeerCertificate,
  type TlsContext,
  TlsSession,
  WANT_READ,
} from "./_ssl_engine.ts";

/** The default `sslHandshakeTimeout`: 60 s (asyncio's `SSL_HANDSHAKE_TIMEOUT`), in ms. */
export const SSL_HANDSHAKE_TIMEOUT_MS = 60_000;
/** The default `sslShutdownTimeout`: 30 s (asyncio's `SSL_SHUTDOWN_TIMEOUT`), in ms. */
export const SSL_SHUTDOWN_TIMEOUT_MS = 30_000;

const MAX_SIZE = 256 * 1024; // asyncio's SSLProtocol.max_size
// Off-heap buffers shared by every TLS connection: each use fills and empties one in one go.
const RECV = READ_BUF; // the transport reads ciphertext here (the readiness transports' buffer)
const OUT = new Uint8Array(new ArrayBuffer(MAX_SIZE)); // outgoing ciphertext, to the transport
const PLAIN = new Uint8Array(new ArrayBuffer(MAX_SIZE)); // decrypted data, copied to the app

const enum State {
  UNWRAPPED,
  DO_HANDSHAKE,
  WRAPPED,
  FLUSHING,
  SHUTDOWN,
}
const enum AppState {
  INIT,
  CON_MADE,
  EOF,
  CON_LOST,
}

/** What the SSL protocol needs of its loop. */
export type SSLProtocolLoop = Pick<
  AbstractEventLoop,
  "callSoon" | "callLater" | "callExceptionHandler" | "getDebug"
>;

/** Options of {@linkcode SSLProtocol}'s constructor. */
export interface SSLProtocolOptions {
  /** Resolved once the handshake completed (rejected with its error). */
  waiter?: Future<void> | null;
  /** Accept (server) rather than connect. */
  serverSide?: boolean;
  /** Client: the SNI name and the name the certificate must be valid for (`""`/`null`: none). */
  serverHostname?: string | null;
  /** Client: check the host name (default: when the context verifies and a name is given). */
  checkHostname?: boolean;
  /** Handshake timeout in ms (default {@linkcode SSL_HANDSHAKE_TIMEOUT_MS}). */
  sslHandshakeTimeout?: number;
  /** Shutdown timeout in ms (default {@linkcode SSL_SHUTDOWN_TIMEOUT_MS}). */
  sslShutdownTimeout?: number;
  /** Call the app protocol's `connectionMade()` after the handshake (default `true`; `false` for startTls). */
  callConnectionMade?: boolean;
  /** Called once, when the connection is gone and the OpenSSL session freed. */
  onFinished?: () => void;
}

/** Checks a timeout option: a number of ms > 0, or `undefined` for the default. */
export function checkTimeout(v: unknown, name: string, what: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) {
    throw new RangeError(`${what}: ${name} should be a positive number of ms, got ${String(v)}`);
  }
  return v;
}

/**
 * The application's side of a TLS connection (asyncio's
 * `_SSLProtocolTransport`). `getExtraInfo()` answers `"sslObject"`,
 * `"peercert"`, `"cipher"`, `"compression"` and `"alpnProtocol"`, and
 * everything the underlying transport knows (`"peername"`, `"socket"`, ...).
 * `writeEof()` throws: TLS has no half-close in asyncio either.
 *
 * @example
 * ```ts ignore
 * const [transport] = await loop.createConnection(() => new Protocol(), { host: "example.com", port: 443, ssl: true });
 * console.log(transport.getExtraInfo("cipher")); // ["TLS_AES_256_GCM_SHA384", "TLSv1.3", 256]
 * transport.close(); // close_notify, then the socket closes
 * ```
 */
export class SSLProtocolTransport extends Transport {
  #ssl: SSLProtocol | null;
  /** Set by the protocol once the transport may no longer be used. @internal */
  _closed = false;

  /** Made by {@linkcode SSLProtocol}; not constructed directly. */
  constructor(ssl: SSLProtocol) {
    super();
    this.#ssl = ssl;
  }

  #proto(): SSLProtocol {
    const p = this.#ssl;
    if (p === null) throw new Deno.errors.BadResource("the TLS transport is closed");
    return p;
  }

  /**
   * TLS details (`sslObject`, `peercert`, `cipher`, `compression`,
   * `alpnProtocol`), else the underlying transport's extra information.
   */
  override getExtraInfo(name: string, defaultValue?: unknown): unknown {
    const p = this.#ssl;
    if (p === null) return defaultValue;
    return p._getExtraInfo(name, defaultValue);
  }

  /** Replaces the application protocol. */
  setProtocol(protocol: BaseProtocol): void {
    this.#proto()._setAppProtocol(protocol as StreamProtocol);
  }

  /** The application protocol. */
  getProtocol(): BaseProtocol {
    return this.#proto()._appProtocol;
  }

  /** Whether `close()`/`abort()` was called or the connection was lost. */
  isClosing(): boolean {
    return this._closed;
  }

  /** Sends what is buffered, then close_notify, then closes the transport. */
  close(): void {
    if (!this._closed) {
      this._closed = true;
      this.#ssl?._startShutdown();
    } else {
      this.#ssl = null;
    }
  }

  /** Whether data is delivered to the protocol (not paused). */
  isReading(): boolean {
    return this.#ssl !== null && !this.#ssl._appReadingPaused;
  }

  /** Stops delivering data to the protocol until `resumeReading()`. */
  pauseReading(): void {
    this.#ssl?._pauseReading();
  }

  /** Delivers data again. */
  resumeReading(): void {
    this.#ssl?._resumeReading();
  }

  /** Sets the marks of the plaintext write buffer plus the unsent ciphertext (defaults 512 KiB/128 KiB). */
  setWriteBufferLimits(limits?: WriteBufferLimitsOptions): void {
    const p = this.#proto();
    p._setWriteBufferLimits(limits);
    p._controlAppWriting();
  }

  /** The marks, `{ low, high }`. */
  getWriteBufferLimits(): WriteBufferLimits {
    return this.#proto()._writeLimits;
  }

  /** Plaintext not yet encrypted plus ciphertext not yet taken by the transport. */
  getWriteBufferSize(): number {
    return this.#ssl?._getWriteBufferSize() ?? 0;
  }

  /** Encrypts `data` and hands it to the transport (buffered until the handshake completed). */
  write(data: Uint8Array): void {
    const view = toBytes(data, "write()");
    if (view.byteLength === 0) return;
    this.#ssl?._writeAppdata([view]);
  }

  /** `write()` of each buffer, in order. */
  writelines(list: Iterable<Uint8Array>): void {
    const views = writelinesViews(list);
    if (views.length !== 0) this.#ssl?._writeAppdata(views);
  }

  /** Throws `NotSupported`: TLS connections have no half-close (asyncio's neither). */
  writeEof(): void {
    throw new Deno.errors.NotSupported(
      "writeEof(): a TLS transport cannot half-close (asyncio's SSL transport neither); " +
        "close() sends close_notify and closes",
    );
  }

  /** `false`: see `writeEof()`. */
  canWriteEof(): boolean {
    return false;
  }

  /** Closes at once: buffers are dropped, no close_notify is sent. */
  abort(): void {
    this._closed = true;
    this.#ssl?._abort(null);
  }

  /**
   * A short description.
   *
   * @example
   * ```ts ignore
   * console.log(String(transport)); // "<SSLProtocolTransport TLSv1.3 open>"
   * ```
   */
  override toString(): string {
    const v = this.#ssl?._version() ?? "handshaking";
    return `<SSLProtocolTransport ${v} ${this._closed ? "closing" : "open"}>`;
  }
}

/**
 * The TLS layer as a `BufferedProtocol` of the underlying transport. Made
 * by `createConnection`/`createServer`/`startTls` with `ssl`; construct it
 * yourself only to put TLS over a transport of your own.
 *
 * @example
 * ```ts ignore
 * const ssl = new SSLProtocol(loop, appProtocol, new SSLContext()._native(false), { waiter, serverHostname: "example.com" });
 * rawTransport.setProtocol(ssl);
 * ssl.connectionMade(rawTransport);
 * await waiter;
 * ```
 */
export class SSLProtocol extends BufferedProtocol {
  #loop: SSLProtocolLoop;
  /** The application's protocol. @internal */
  _appProtocol: StreamProtocol;
  #appBuffered: boolean;
  #appTransport: SSLProtocolTransport;
  #transport: Transport | null = null;
  #session: TlsSession | null;
  #waiter: Future<void> | null;
  #serverSide: boolean;
  #state = State.UNWRAPPED;
  #appState: AppState;
  #connLost = 0;
  #extra = new Map<string, unknown>();
  #backlog: Uint8Array[] = [];
  #backlogSize = 0;
  #handshakeTimeout: number;
  #shutdownTimeout: number;
  #handshakeTimer: TimerHandle | null = null;
  #shutdownTimer: TimerHandle | null = null;
  #eofReceived = false;
  #handshakeDone = false;
  #sslWritingPaused = false; // the transport asked us to stop writing
  #flushAll = false; // an alert after a failed handshake goes out whatever the flow control
  #outMaybe = true; // the outgoing BIO may hold ciphertext (false right after it was drained)
  /** The application paused reading. @internal */
  _appReadingPaused = false;
  #sslReadingPaused = false; // we paused the transport
  #appWritingPaused = false; // we paused the application
  /** The write-buffer marks. @internal */
  _writeLimits: WriteBufferLimits = { high: 512 * 1024, low: 128 * 1024 };
  #readHigh = 256 * 1024;
  #readLow = 64 * 1024;
  #pendingError: Error | null = null;
  #onFinished: (() => void) | null;

  /** Wraps `appProtocol` in TLS with `context` (the OpenSSL context of the right side). */
  constructor(
    loop: SSLProtocolLoop,
    appProtocol: StreamProtocol,
    context: TlsContext,
    options: SSLProtocolOptions = {},
  ) {
    super();
    this.#loop = loop;
    this._appProtocol = appProtocol;
    this.#appBuffered = isBuffered(appProtocol);
    this.#waiter = options.waiter ?? null;
    this.#serverSide = options.serverSide ?? false;
    const host = options.serverHostname || null;
    this.#handshakeTimeout = options.sslHandshakeTimeout ?? SSL_HANDSHAKE_TIMEOUT_MS;
    this.#shutdownTimeout = options.sslShutdownTimeout ?? SSL_SHUTDOWN_TIMEOUT_MS;
    this.#appState = (options.callConnectionMade ?? true) ? AppState.INIT : AppState.CON_MADE;
    this.#onFinished = options.onFinished ?? null;
    this.#session = new TlsSession(context, {
      serverSide: this.#serverSide,
      serverHostname: host,
      checkHostname: options.checkHostname ?? (context.config.verify && host !== null),
    });
    this.#appTransport = new SSLProtocolTransport(this);
  }

  /** The transport the application uses. */
  get appTransport(): SSLProtocolTransport {
    return this.#appTransport;
  }

  /** The negotiated version, or `null` (before the handshake, or once freed). @internal */
  _version(): string | null {
    return this.#session?.version() ?? null;
  }

  /** @internal */
  _setAppProtocol(protocol: StreamProtocol): void {
    this._appProtocol = protocol;
    this.#appBuffered = isBuffered(protocol);
  }

  /** @internal */
  _getExtraInfo(name: string, defaultValue?: unknown): unknown {
    if (this.#extra.has(name)) return this.#extra.get(name);
    if (this.#transport !== null) return this.#transport.getExtraInfo(name, defaultValue);
    return defaultValue;
  }

  #wakeupWaiter(exc: Error | null = null): void {
    const w = this.#waiter;
    if (w === null) return;
    this.#waiter = null;
    if (w.cancelled() || w.done()) return;
    if (exc !== null) w.setException(exc);
    else w.setResult(undefined);
  }

  // ---- the transport's protocol ------------------------------------------------

  /** The transport is up: start the handshake. */
  override connectionMade(transport: BaseTransport): void {
    this.#transport = transport as Transport;
    this.#startHandshake();
  }

  /** The transport is gone: tell the application (with the error that ended it, if any). */
  override connectionLost(exc: Error | null): void {
    const error = exc ?? this.#pendingError;
    this.#backlog = [];
    this.#backlogSize = 0;
    this.#connLost++;
    this.#appTransport._closed = true;
    const state = this.#state;
    if (state !== State.DO_HANDSHAKE) {
      if (this.#appState === AppState.CON_MADE || this.#appState === AppState.EOF) {
        this.#appState = AppState.CON_LOST;
        const app = this._appProtocol;
        this.#loop.callSoon(() => app.connectionLost(error));
      }
    }
    this.#state = State.UNWRAPPED;
    this.#transport = null;
    this.#wakeupWaiter(
      error ?? (this.#handshakeDone ? null : new Deno.errors.ConnectionAborted(
        "the connection was closed during the TLS handshake",
      )),
    );
    this.#handshakeTimer?.cancel();
    this.#shutdownTimer?.cancel();
    this.#handshakeTimer = this.#shutdownTimer = null;
    this.#free();
  }

  #free(): void {
    const s = this.#session;
    if (s === null) return;
    this.#session = null;
    s.free();
    const done = this.#onFinished;
    this.#onFinished = null;
    done?.();
  }

  /** Where the transport reads ciphertext: a shared off-heap buffer. */
  override getBuffer(_sizeHint: number): Uint8Array {
    return RECV;
  }

  /** `nbytes` of ciphertext arrived in the buffer. */
  override bufferUpdated(nbytes: number): void {
    const s = this.#session;
    if (s === null) return;
    try {
      s.feed(RECV, nbytes);
    } catch (e) {
      this.#fatalError(e, "Fatal error on SSL protocol");
      return;
    }
    switch (this.#state) {
      case State.DO_HANDSHAKE:
        this.#doHandshake();
        break;
      case State.WRAPPED:
        this.#doRead();
        break;
      case State.FLUSHING:
        this.#doFlush();
        break;
      case State.SHUTDOWN:
        this.#doShutdown();
        break;
    }
  }

  /** The peer closed its side of the transport. */
  override eofReceived(): boolean {
    this.#eofReceived = true;
    try {
      switch (this.#state) {
        case State.DO_HANDSHAKE:
          this.#onHandshakeComplete(
            new Deno.errors.ConnectionReset(
              "the peer closed the connection during the TLS handshake",
            ),
          );
          break;
        case State.WRAPPED:
          this.#state = State.FLUSHING;
          if (this._appReadingPaused) return true;
          this.#doFlush();
          break;
        case State.FLUSHING:
          this.#doWrite();
          this.#state = State.SHUTDOWN;
          this.#doShutdown();
          break;
        case State.SHUTDOWN:
          this.#doShutdown();
          break;
      }
    } catch (e) {
      this.#fatalError(e, "Fatal error on SSL protocol");
    }
    return false;
  }

  /** The transport's buffer is full: stop handing it ciphertext. */
  override pauseWriting(): void {
    this.#sslWritingPaused = true;
  }

  /** The transport drained: hand it the ciphertext that waited. */
  override resumeWriting(): void {
    this.#sslWritingPaused = false;
    this.#processOutgoing();
  }

  // ---- handshake -----------------------------------------------------------------

  #startHandshake(): void {
    this.#state = State.DO_HANDSHAKE;
    const timeout = this.#handshakeTimeout;
    this.#handshakeTimer = this.#loop.callLater(timeout, () => {
      this.#handshakeTimer = null;
      if (this.#state !== State.DO_HANDSHAKE) return;
      this.#fatalError(
        new Deno.errors.TimedOut(
          `SSL handshake is taking longer than ${timeout} ms (sslHandshakeTimeout): ` +
            "aborting the connection",
        ),
      );
    });
    this.#doHandshake();
  }

  #doHandshake(): void {
    const s = this.#session;
    if (s === null) return;
    let done: boolean;
    try {
      done = s.handshake() !== WANT_READ;
    } catch (e) {
      this.#onHandshakeComplete(e as Error);
      return;
    }
    if (done) this.#onHandshakeComplete(null);
    else this.#processOutgoing();
  }

  #onHandshakeComplete(exc: Error | null): void {
    this.#handshakeTimer?.cancel();
    this.#handshakeTimer = null;
    const s = this.#session;
    if (exc !== null || s === null) {
      this.#state = State.UNWRAPPED;
      // An alert OpenSSL wrote (e.g. "bad certificate") still goes to the peer.
      try {
        this.#flushAll = true;
        this.#flushOutgoing();
      } catch { /* the transport may be gone */ }
      const error = exc ?? new Deno.errors.BadResource("the TLS session was freed");
      this.#fatalError(error, "SSL handshake failed");
      this.#wakeupWaiter(error);
      return;
    }
    this.#state = State.WRAPPED;
    this.#handshakeDone = true;
    this.#extra.set("sslObject", new SSLObject(s));
    this.#extra.set("peercert", s.peerCertificate());
    this.#extra.set("cipher", s.cipher());
    this.#extra.set("compression", null);
    this.#extra.set("alpnProtocol", s.selectedAlpnProtocol());
    if (this.#appState === AppState.INIT) {
      this.#appState = AppState.CON_MADE;
      try {
        this._appProtocol.connectionMade(this.#appTransport);
      } catch (e) {
        this.#fatalError(e, "Fatal error: protocol.connectionMade() call failed.");
        this.#wakeupWaiter(e as Error);
        return;
      }
    }
    this.#wakeupWaiter();
    this.#doRead();
  }

  // ---- shutdown ------------------------------------------------------------------

  /** @internal */
  _startShutdown(): void {
    const st = this.#state;
    if (st === State.FLUSHING || st === State.SHUTDOWN || st === State.UNWRAPPED) return;
    this.#appTransport._closed = true;
    if (st === State.DO_HANDSHAKE) {
      this._abort(null);
      return;
    }
    this.#state = State.FLUSHING;
    this.#shutdownTimer = this.#loop.callLater(this.#shutdownTimeout, () => {
      this.#shutdownTimer = null;
      if (this.#state === State.FLUSHING || this.#state === State.SHUTDOWN) {
        this._abort(
          new Deno.errors.TimedOut(
            `SSL shutdown timed out after ${this.#shutdownTimeout} ms (sslShutdownTimeout)`,
          ),
        );
      }
    });
    this.#doFlush();
  }

  #doFlush(): void {
    this.#doRead();
    if (this.#state !== State.FLUSHING) return; // the read failed, or the app closed
    this.#state = State.SHUTDOWN;
    this.#doShutdown();
  }

  #doShutdown(): void {
    const s = this.#session;
    if (s === null) return;
    try {
      // Discard what comes after our close_notify, up to the peer's.
      if (!s.receivedShutdown()) {
        for (let r = 1; r > 0;) r = s.read(PLAIN);
      }
      if (!this.#eofReceived && s.shutdown() === WANT_READ) {
        this.#processOutgoing();
        return;
      }
    } catch (e) {
      this.#onShutdownComplete(e as Error);
      return;
    }
    // Here the peer may have hung up without its close_notify: after ours that is the usual end.
    this.#processOutgoing();
    this.#callEofReceived();
    this.#onShutdownComplete(null);
  }

  #onShutdownComplete(exc: Error | null): void {
    this.#shutdownTimer?.cancel();
    this.#shutdownTimer = null;
    if (exc !== null) {
      this.#fatalError(exc);
      return;
    }
    const t = this.#transport;
    if (t !== null) this.#loop.callSoon(() => t.close());
  }

  /** @internal */
  _abort(exc: Error | null): void {
    this.#state = State.UNWRAPPED;
    if (exc !== null && this.#pendingError === null) this.#pendingError = exc;
    this.#transport?.abort();
  }

  // ---- outgoing ------------------------------------------------------------------

  /** @internal */
  _writeAppdata(list: Uint8Array[]): void {
    const st = this.#state;
    if (st === State.FLUSHING || st === State.SHUTDOWN || st === State.UNWRAPPED) {
      if (this.#connLost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES) {
        console.warn("SSL connection is closed");
      }
      this.#connLost++;
      return;
    }
    if (st === State.WRAPPED && this.#backlog.length === 0) {
      // The usual case: encrypt at once, no copy kept.
      try {
        const s = this.#session!;
        for (let i = 0; i < list.length; i++) {
          const data = list[i];
          const n = s.write(data);
          if (n === WANT_READ) {
            for (let k = i; k < list.length; k++) this.#queue(list[k]);
            break;
          }
          if (n < data.byteLength) this.#queue(data.subarray(n));
        }
        this.#processOutgoing();
      } catch (e) {
        this.#fatalError(e, "Fatal error on SSL protocol");
      }
      return;
    }
    for (const data of list) this.#queue(data);
    try {
      if (st === State.WRAPPED) this.#doWrite();
      else this.#controlAppWriting();
    } catch (e) {
      this.#fatalError(e, "Fatal error on SSL protocol");
    }
  }

  // The application may reuse its buffer after write(): a queued write is a copy.
  #queue(data: Uint8Array): void {
    this.#backlog.push(data.slice());
    this.#backlogSize += data.byteLength;
  }

  #doWrite(): void {
    const s = this.#session;
    if (s === null) return;
    const backlog = this.#backlog;
    while (backlog.length > 0) {
      const data = backlog[0];
      const n = s.write(data);
      if (n === WANT_READ) break;
      if (n < data.byteLength) {
        backlog[0] = data.subarray(n);
        this.#backlogSize -= n;
      } else {
        backlog.shift();
        this.#backlogSize -= data.byteLength;
      }
    }
    this.#processOutgoing();
  }

  // Hands the outgoing ciphertext to the transport (it copies what it cannot send at once).
  #flushOutgoing(): void {
    const s = this.#session;
    const t = this.#transport;
    if (s === null || t === null) return;
    for (;;) {
      const n = s.takeOutgoing(OUT);
      if (n <= 0) {
        this.#outMaybe = false;
        break;
      }
      t.write(n === OUT.byteLength ? OUT : OUT.subarray(0, n));
      if (n < OUT.byteLength) {
        this.#outMaybe = false; // a memory BIO hands out all it has
        break;
      }
      // The transport's buffer filled up: the rest waits in the BIO (and counts for the app).
      if (this.#transport === null || (this.#sslWritingPaused && !this.#flushAll)) break;
    }
  }

  // Called after every OpenSSL call that may have produced ciphertext.
  #processOutgoing(): void {
    this.#outMaybe = true;
    if (!this.#sslWritingPaused) this.#flushOutgoing();
    this._controlAppWriting();
  }

  /** @internal */
  _controlAppWriting(): void {
    this.#controlAppWriting();
  }

  #controlAppWriting(): void {
    const size = this._getWriteBufferSize();
    if (size >= this._writeLimits.high && !this.#appWritingPaused) {
      this.#appWritingPaused = true;
      try {
        this._appProtocol.pauseWriting();
      } catch (e) {
        this.#reportError(e, "protocol.pauseWriting() failed");
      }
    } else if (size <= this._writeLimits.low && this.#appWritingPaused) {
      this.#appWritingPaused = false;
      try {
        this._appProtocol.resumeWriting();
      } catch (e) {
        this.#reportError(e, "protocol.resumeWriting() failed");
      }
    }
  }

  /** @internal */
  _getWriteBufferSize(): number {
    const out = this.#outMaybe ? (this.#session?.outgoingPending() ?? 0) : 0;
    return out + this.#backlogSize;
  }

  /** @internal */
  _setWriteBufferLimits(limits?: WriteBufferLimitsOptions): void {
    const hasHigh = limits?.high !== undefined && limits?.high !== null;
    const hasLow = limits?.low !== undefined && limits?.low !== null;
    // asyncio's SSL defaults: 512 KiB high, a quarter of it low.
    this._writeLimits = normalizeLimits(
      hasHigh || hasLow ? limits : { high: 512 * 1024, low: 128 * 1024 },
    );
  }

  // ---- incoming ------------------------------------------------------------------

  #doRead(): void {
    const st = this.#state;
    if (st !== State.WRAPPED && st !== State.FLUSHING) return;
    try {
      if (!this._appReadingPaused) {
        if (this.#appBuffered) this.#doReadBuffered();
        else this.#doReadCopied();
        if (this.#backlog.length > 0) this.#doWrite();
        else this.#processOutgoing();
      }
      this.#controlSslReading();
    } catch (e) {
      this.#fatalError(e, "Fatal error on SSL protocol");
    }
  }

  #doReadCopied(): void {
    const s = this.#session!;
    for (;;) {
      // The plaintext is at most the ciphertext waiting: a large read is decrypted straight into
      // the application's own new buffer (no second copy); small ones go through the pooled slab.
      const waiting = s.incomingPending() + s.pendingPlaintext();
      const own = waiting > POOLED_MAX;
      if (own) _freshMemory();
      const buf = own ? new Uint8Array(Math.min(waiting, MAX_SIZE)) : PLAIN;
      let filled = 0;
      let r = 1;
      while (filled < buf.byteLength) {
        r = s.read(buf, filled, buf.byteLength - filled);
        if (r <= 0) break;
        filled += r;
        // All input consumed: skip the call that would only say "want more".
        if (filled < buf.byteLength && !s.hasMoreInput()) {
          r = WANT_READ;
          break;
        }
      }
      if (filled > 0) {
        // As the socket transport: small reads are views of a pooled slab (loop decision T3).
        const data = !own
          ? takeRead(PLAIN, filled)
          : filled === buf.byteLength
          ? buf
          : buf.subarray(0, filled);
        (this._appProtocol as Protocol).dataReceived(data);
        if (this.#session === null) return;
      }
      if (r === CLOSED) {
        this.#callEofReceived();
        this._startShutdown();
        return;
      }
      if (r === WANT_READ) {
        this.#checkTruncation();
        return;
      }
      // The buffer filled up: go on unless the application paused meanwhile.
      if (this._appReadingPaused || this.#state === State.UNWRAPPED) return;
    }
  }

  #doReadBuffered(): void {
    const s = this.#session!;
    const app = this._appProtocol as BufferedProtocol;
    for (;;) {
      const buf = readTarget(app.getBuffer(MAX_SIZE));
      let filled = 0;
      let r = 1;
      while (filled < buf.byteLength) {
        r = s.read(buf, filled, buf.byteLength - filled);
        if (r <= 0) break;
        filled += r;
        // All input consumed: skip the call that would only say "want more".
        if (filled < buf.byteLength && !s.hasMoreInput()) {
          r = WANT_READ;
          break;
        }
      }
      if (filled > 0) {
        app.bufferUpdated(filled);
        if (this.#session === null) return;
      }
      if (r === CLOSED) {
        this.#callEofReceived();
        this._startShutdown();
        return;
      }
      if (r === WANT_READ) {
        this.#checkTruncation();
        return;
      }
      if (this._appReadingPaused || this.#state === State.UNWRAPPED) return;
    }
  }

  // All data read, the transport at EOF and no close_notify came: the stream may have been cut.
  #checkTruncation(): void {
    const s = this.#session;
    if (!this.#eofReceived || s === null || s.receivedShutdown()) return;
    if (this.#state !== State.FLUSHING) return;
    this.#fatalError(
      new Deno.errors.UnexpectedEof(
        "TLS: the peer closed the connection without sending close_notify " +
          "(the data may have been truncated)",
      ),
    );
  }

  #callEofReceived(): void {
    if (this.#appState !== AppState.CON_MADE) return;
    this.#appState = AppState.EOF;
    try {
      const keepOpen = this._appProtocol.eofReceived();
      if (keepOpen) console.warn("returning true from eofReceived() has no effect when using ssl");
    } catch (e) {
      this.#fatalError(e, "Error calling eofReceived()");
    }
  }

  // ---- read flow control ---------------------------------------------------------

  /** @internal */
  _pauseReading(): void {
    this._appReadingPaused = true;
  }

  /** @internal */
  _resumeReading(): void {
    if (!this._appReadingPaused) return;
    this._appReadingPaused = false;
    this.#loop.callSoon(() => {
      switch (this.#state) {
        case State.WRAPPED:
          this.#doRead();
          break;
        case State.FLUSHING:
          this.#doFlush();
          break;
        case State.SHUTDOWN:
          this.#doShutdown();
          break;
      }
    });
  }

  #controlSslReading(): void {
    const t = this.#transport;
    // Reading drained the incoming BIO unless the application paused it.
    if (t === null || (!this._appReadingPaused && !this.#sslReadingPaused)) return;
    const size = this.#session?.incomingPending() ?? 0;
    if (size >= this.#readHigh && !this.#sslReadingPaused) {
      this.#sslReadingPaused = true;
      t.pauseReading();
    } else if (size <= this.#readLow && this.#sslReadingPaused) {
      this.#sslReadingPaused = false;
      t.resumeReading();
    }
  }

  // ---- errors --------------------------------------------------------------------

  #fatalError(exc: unknown, message = "Fatal error on transport"): void {
    const error = exc instanceof Error ? exc : new Error(String(exc));
    if (this.#pendingError === null) this.#pendingError = error;
    this.#state = State.UNWRAPPED;
    const t = this.#transport;
    if (t !== null) t.abort();
    const quiet = isOSError(error) || (error as unknown) instanceof CancelledError;
    if (!quiet) {
      this.#reportError(error, message);
    }
  }

  #reportError(exc: unknown, message: string): void {
    this.#loop.callExceptionHandler({
      message,
      exception: exc,
      transport: this.#transport ?? undefined,
      protocol: this,
    });
  }
}

/** What an {@linkcode SSLObject} reads of its TLS session. */
export interface SSLSessionFacts {
  /** Whether this side accepted. */
  readonly serverSide: boolean;
  /** Whether the session was freed. */
  readonly freed: boolean;
  /** The negotiated version. */
  version(): string | null;
  /** The cipher. */
  cipher(): [string, string, number] | null;
  /** The ALPN protocol agreed on. */
  selectedAlpnProtocol(): string | null;
  /** The SNI name. */
  serverName(): string | null;
  /** The peer's certificate. */
  peerCertificate(): PeerCertificate | null;
}

/**
 * The TLS session as the application sees it (asyncio's `ssl.SSLObject`,
 * in `getExtraInfo("sslObject")`): JavaScript values only.
 *
 * @example
 * ```ts ignore
 * const obj = transport.getExtraInfo("sslObject") as SSLObject;
 * console.log(obj.version(), obj.selectedAlpnProtocol(), obj.serverSide);
 * ```
 */
export class SSLObject {
  #s: SSLSessionFacts;
  #version: string | null;
  #cipher: [string, string, number] | null;
  #alpn: string | null;
  #serverName: string | null;

  /** Wraps a session once its handshake completed (the facts are kept after it is freed). */
  constructor(session: SSLSessionFacts) {
    this.#s = session;
    this.#version = session.version();
    this.#cipher = session.cipher();
    this.#alpn = session.selectedAlpnProtocol();
    this.#serverName = session.serverName();
  }

  /** Whether this side accepted the session. */
  get serverSide(): boolean {
    return this.#s.serverSide;
  }

  /** The negotiated version (`"TLSv1.3"`). */
  version(): string | null {
    return this.#version;
  }

  /** `[name, protocol, secret bits]`. */
  cipher(): [string, string, number] | null {
    return this.#cipher;
  }

  /** The ALPN protocol agreed on, or `null`. */
  selectedAlpnProtocol(): string | null {
    return this.#alpn;
  }

  /** The SNI name: sent (client) or received (server); `null` when none. */
  serverName(): string | null {
    return this.#serverName;
  }

  /** The peer's certificate as JavaScript values (asyncio's `getpeercert()`), `null` once the connection is gone. */
  getpeercert(): PeerCertificate | null {
    return this.#s.freed ? null : this.#s.peerCertificate();
  }

  /** `null`: OpenSSL 3 negotiates no compression. */
  compression(): null {
    return null;
  }
}
