/**
 * The native `sockSendfile()` of the readiness loops (asyncio's
 * `_UnixSelectorEventLoop._sock_sendfile_native`): `sendfile(2)` straight
 * from the file to the socket; when the socket's buffer is full (EAGAIN) it
 * waits for writability through the loop's `addWriter` and goes on. An
 * error before the first byte that says "no sendfile for this pair"
 * (EINVAL, ENOSYS, ENOTSOCK, ENOTSUP/EOPNOTSUPP) is a
 * `SendfileNotAvailableError`, so the call falls back.
 *
 * @module
 */
import { E, osError } from "../../ffi/sys.ts";
import type { Socket } from "../../net/mod.ts";
import {
  HAS_SENDFILE_SYSCALL,
  SENDFILE_SYSCALL_MAX,
  SendfileNotAvailableError,
  sendfileOnce,
  type SendfileSource,
} from "../base/_sendfile.ts";
import { cancelledError } from "../_signal.ts";
import type { FileObj } from "../../selectors/mod.ts";
import type { Handle } from "../handle.ts";

const WHAT = "sockSendfile()";

/** What the native path needs of the loop. */
export interface SendfileLoop {
  addWriter(fileobj: FileObj, callback: () => void): Handle;
  _release(fileobj: FileObj, write: boolean, lazy?: boolean): void;
}

// The errors of a first sendfile(2) meaning "not for this file or socket": fall back.
const UNAVAILABLE = new Set(
  [E.EINVAL, E.ENOSYS, E.ENOTSOCK, E.ENOTSUP, E.EOPNOTSUPP].filter((n) => n !== undefined),
);

/** Resolves once `sock` is writable; rejects with `CancelledError` when `signal` aborts. */
function writable(
  loop: SendfileLoop,
  sock: Socket,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const onAbort = () => {
    signal!.removeEventListener("abort", onAbort);
    loop._release(sock, true, false);
    reject(cancelledError(signal!, WHAT));
  };
  try {
    loop.addWriter(sock, () => {
      signal?.removeEventListener("abort", onAbort);
      loop._release(sock, true);
      resolve();
    });
  } catch (e) {
    return Promise.reject(e);
  }
  signal?.addEventListener("abort", onAbort);
  return promise;
}

/**
 * Sends `file` from `offset` (up to `count` bytes, or to its end) on `sock`
 * with `sendfile(2)`; the bytes sent. Throws `SendfileNotAvailableError`
 * (before sending anything) where that is not possible.
 *
 * @example
 * ```ts ignore
 * const sent = await sendfileNative(loop, sock, source, 0, null, undefined, () => {});
 * ```
 */
export async function sendfileNative(
  loop: SendfileLoop,
  sock: Socket,
  file: SendfileSource,
  offset: number,
  count: number | null,
  signal: AbortSignal | undefined,
  progress: (sent: number) => void,
): Promise<number> {
  if (!HAS_SENDFILE_SYSCALL) {
    throw new SendfileNotAvailableError("this OS has no sendfile(2) for the selector loop");
  }
  let sent = 0;
  for (;;) {
    const want = count === null
      ? SENDFILE_SYSCALL_MAX
      : Math.min(count - sent, SENDFILE_SYSCALL_MAX);
    if (want <= 0) return sent;
    if (signal?.aborted) throw cancelledError(signal, WHAT);
    if (sock.closed) throw osError(E.EBADF, "sendfile", "the socket is closed");
    let n: number;
    try {
      n = sendfileOnce(sock.fileno(), file, offset + sent, want);
    } catch (e) {
      const errno = (e as { errno?: number }).errno;
      if (sent === 0 && errno !== undefined && UNAVAILABLE.has(errno)) {
        throw new SendfileNotAvailableError(
          `sendfile(2) refused socket ${sock.fileno()} and ${file.name}: ${(e as Error).message}`,
          { cause: e },
        );
      }
      throw e;
    }
    if (n < 0) {
      await writable(loop, sock, signal);
      continue;
    }
    if (n === 0) return sent; // end of file
    sent += n;
    progress(sent);
  }
}
