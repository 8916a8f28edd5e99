/**
 * @aio/loop: Python asyncio's event-loop architecture for Deno, on the
 * operating system's own polling calls (`select`, `poll`, `epoll`, `kqueue`)
 * reached through `Deno.dlopen`. Run with `--allow-ffi`.
 *
 * @example
 * ```ts
 * import { DefaultSelector, EVENT_READ, Socket } from "@aio/loop";
 * using sock = new Socket();
 * using sel = new DefaultSelector();
 * sel.register(sock, EVENT_READ);
 * console.log(sel.select(0));
 * ```
 * @module
 */
export * from "./selectors/mod.ts";
export * from "./net/mod.ts";
export * from "./transports/mod.ts";
export * from "./loop/mod.ts";
export { UnixSelectorEventLoop } from "./loop/unix/unix_selector_event_loop.ts";
export { WindowsSelectorEventLoop } from "./loop/windows/windows_selector_event_loop.ts";
export {
  type CreatePipeConnectionOptions,
  ProactorEventLoop,
} from "./loop/windows/proactor_event_loop.ts";
export { pipe, PipeHandle, type PipeOptions } from "./loop/windows/pipe_handle.ts";
export { PipeServer } from "./loop/windows/pipe_server.ts";
export { BaseProactorEventLoop } from "./loop/proactor/proactor_event_loop.ts";
export * from "./policy.ts";
export { run, Runner, type RunnerOptions, type RunOptions } from "./runner.ts";
export * from "./streams/mod.ts";
// What the `AbstractChildWatcher` type of `getChildWatcher()` names (the classes are in `./unix`).
export type {
  AddChildHandlerOptions,
  ChildExitCallback,
  ChildWatcherLoop,
} from "./loop/unix/mod.ts";
