/**
 * The selector matrix the loop conformance tests run over.
 *
 * @module
 */
import {
  type BaseSelector,
  DefaultSelector,
  EpollSelector,
  PollSelector,
  SelectSelector,
} from "../selectors/mod.ts";
import type { EventLoopOptions } from "../loop/mod.ts";
import { SelectorEventLoop } from "../loop/mod.ts";

/** A selector class of the matrix: its name and a factory. */
export interface SelectorCase {
  name: string;
  make: () => BaseSelector;
}

/** Every selector the loop runs over here (KqueueSelector is emulated; added by the lead). */
export const SELECTORS: SelectorCase[] = [
  { name: "SelectSelector", make: () => new SelectSelector() },
  { name: "PollSelector", make: () => new PollSelector() },
  ...(Deno.build.os === "linux"
    ? [{ name: "EpollSelector", make: () => new EpollSelector() }]
    : []),
  { name: "DefaultSelector", make: () => new DefaultSelector() },
];

/** A new `SelectorEventLoop` over `c`'s selector. */
export function newLoop(c: SelectorCase, options?: EventLoopOptions): SelectorEventLoop {
  return new SelectorEventLoop(c.make(), options);
}

/** Replaces `console[method]` while `fn` runs, collecting what was printed. */
export async function captureConsole(
  method: "error" | "warn",
  fn: () => unknown,
): Promise<unknown[][]> {
  const calls: unknown[][] = [];
  const saved = console[method];
  console[method] = (...args: unknown[]) => void calls.push(args);
  try {
    await fn();
  } finally {
    console[method] = saved;
  }
  return calls;
}
