/**
 * `ProactorEventLoop` (asyncio's `windows_events.ProactorEventLoop`): the
 * completion-port loop of Windows, `BaseProactorEventLoop` on an
 * `IocpProactor`. Named pipes and subprocesses join it here (issue 11);
 * until then they refuse with the platform table's `NotSupported`.
 *
 * @module
 */
import { BaseProactorEventLoop } from "../proactor/proactor_event_loop.ts";

/**
 * The ProactorEventLoop of Windows (asyncio's default there since 3.8):
 * TCP, UDP, servers and streams on I/O completion ports, with no socket
 * limit. Not yet: named pipes, subprocesses (`NotSupported` naming what to
 * use meanwhile) and `addReader`/`addWriter` (as in CPython). On any other
 * OS the constructor throws `NotSupported`.
 *
 * @example
 * ```ts
 * import { ProactorEventLoop } from "@aio/loop";
 * if (Deno.build.os === "windows") {
 *   using loop = new ProactorEventLoop();
 *   console.log(await loop.runUntilComplete(async () => 42)); // 42
 * }
 * ```
 */
export class ProactorEventLoop extends BaseProactorEventLoop {}
