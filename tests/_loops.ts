/**
 * The selector matrix the loop conformance tests run over.
 *
 * @module
 */
import type { EventLoopOptions } from "../mod.ts";
import { SelectorEventLoop } from "../mod.ts";
import { type SelectorFactory, SELECTORS } from "./_selector_factories.ts";

/** A selector of the matrix: its name and a factory. */
export type SelectorCase = SelectorFactory;

/** Every selector the loop runs over here, KqueueSelector through the emulation on Linux. */
export { SELECTORS };

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
