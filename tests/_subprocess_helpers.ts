/**
 * Helpers of the subprocess tests: a protocol that records every call,
 * zombie checks, and running a test under a given child watcher.
 *
 * @module
 */
import { LIBC_PATH } from "../ffi/unix/libc.ts";
import { SubprocessProtocol } from "../transports/subprocess_protocol.ts";
import type { BaseTransport } from "../transports/base_transport.ts";
import type { AbstractChildWatcher } from "../loop/unix/child_watcher.ts";
import { getEventLoopPolicy } from "../policy.ts";

/** Records the protocol calls in order, and the output per fd. */
export class Recorder extends SubprocessProtocol {
  /** The calls, such as `"made"`, `"data1"`, `"pipeLost1"`, `"exited"`, `"lost"`. */
  events: string[] = [];
  /** Output chunks per fd. */
  chunks: Record<number, Uint8Array[]> = { 1: [], 2: [] };
  /** Resolves at connectionLost(). */
  done: PromiseWithResolvers<void> = Promise.withResolvers<void>();
  /** The transport, from connectionMade(). */
  transport: BaseTransport | null = null;

  override connectionMade(transport: BaseTransport): void {
    this.transport = transport;
    this.events.push("made");
  }
  override pipeDataReceived(fd: number, data: Uint8Array): void {
    if (this.events.at(-1) !== `data${fd}`) this.events.push(`data${fd}`);
    this.chunks[fd].push(data);
  }
  override pipeConnectionLost(fd: number, exc: Error | null): void {
    this.events.push(`pipeLost${fd}${exc ? ":" + exc.name : ""}`);
  }
  override processExited(): void {
    this.events.push("exited");
  }
  override connectionLost(exc: Error | null): void {
    this.events.push(`lost${exc ? ":" + exc.name : ""}`);
    this.done.resolve();
  }

  /** The output of `fd` as text. */
  text(fd: number): string {
    const all = this.chunks[fd];
    const buf = new Uint8Array(all.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of all) {
      buf.set(c, off);
      off += c.length;
    }
    return new TextDecoder().decode(buf);
  }
}

let peekLib:
  | Deno.DynamicLibrary<{ waitid: { parameters: ["i32", "i32", "buffer", "i32"]; result: "i32" } }>
  | undefined;

/** The pid of an exited, unreaped child of ours (0 if none), without reaping it. */
export function zombieChild(): number {
  peekLib ??= Deno.dlopen(LIBC_PATH, {
    waitid: { parameters: ["i32", "i32", "buffer", "i32"], result: "i32" },
  });
  const info = new Uint8Array(128);
  const WNOWAIT = Deno.build.os === "darwin" ? 0x20 : 0x01000000;
  if (peekLib.symbols.waitid(0, 0, info, 4 | 1 | WNOWAIT) < 0) return 0; // ECHILD: no children
  return new DataView(info.buffer).getInt32(16, true);
}

/** Whether `pid` is a zombie child of this process (`/proc/<pid>/stat`; Linux). */
export function isOurZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return false; // gone: reaped
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[0] === "Z" && Number(fields[1]) === Deno.pid;
}

/** Runs `fn` with `watcher` as the policy's child watcher, then restores the default. */
export async function withWatcher(
  watcher: AbstractChildWatcher,
  fn: () => Promise<void>,
): Promise<void> {
  const policy = getEventLoopPolicy();
  policy.setChildWatcher(watcher);
  try {
    await fn();
  } finally {
    policy.setChildWatcher(null);
  }
}

/** 1 MiB-ish patterned bytes. */
export function pattern(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + (i >>> 9)) & 0xff;
  return out;
}
