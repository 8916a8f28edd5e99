/**
 * What the read and write pipe transports share: taking over a pipe (the
 * fd check of asyncio's `_UnixReadPipeTransport`/`_UnixWritePipeTransport`)
 * and closing it.
 *
 * @module
 */
import type { PipeFileObj } from "../abstract_event_loop.ts";
import { closeFd, describe, type FileKind, fileKind, setNonBlocking } from "../../ffi/unix/libc.ts";
import { fileobjToFd } from "../../selectors/base_selector.ts";

const KIND_NAMES: Record<FileKind, string> = {
  file: "a regular file",
  directory: "a directory",
  socket: "a socket",
  fifo: "a pipe/FIFO",
  character: "a character device",
  block: "a block device",
  symlink: "a symbolic link",
  unknown: "of an unknown kind",
};

const ADVICE: Partial<Record<FileKind, string>> = {
  file: "; read and write regular files with Deno's file APIs (Deno.open(), Deno.FsFile, " +
    "Deno.readFile()) instead",
  directory: "; list directories with Deno.readDir() instead",
  block: "; open block devices with Deno.open() instead",
};

/**
 * Checks that `pipe` is a pipe, FIFO, socket or character device (a PTY
 * is one), makes it nonblocking, and returns its fd and kind. Throws
 * `TypeError`/`RangeError` for a bad `pipe`,
 * `BadResource` for a closed fd and `TypeError` for any other kind of file.
 */
export function takePipe(pipe: unknown, what: string): { fd: number; kind: FileKind } {
  let fd: number;
  try {
    fd = fileobjToFd(pipe as PipeFileObj);
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) {
      const Ctor = e instanceof RangeError ? RangeError : TypeError;
      throw new Ctor(`${what}: pipe: ${e.message}`, { cause: e });
    }
    throw e;
  }
  const kind = fileKind(fd); // BadResource (EBADF) for a closed fd
  if (kind !== "fifo" && kind !== "socket" && kind !== "character") {
    throw new TypeError(
      `${what}: Pipe transport is for pipes/sockets/character devices only, but fd ${fd} ` +
        `(${describe(pipe)}) is ${KIND_NAMES[kind]}${ADVICE[kind] ?? ""}`,
    );
  }
  setNonBlocking(fd);
  return { fd, kind };
}

/** Closes a pipe the transport owns: with its own `close()` when it has one, else by fd. */
export function closePipe(pipe: PipeFileObj, fd: number): void {
  const close = typeof pipe === "object" && pipe !== null
    ? (pipe as { close?: unknown }).close
    : undefined;
  if (typeof close === "function") close.call(pipe);
  else closeFd(fd);
}
