/** Every selector the conformance suites run against, by name. */
import {
  type BaseSelector,
  DefaultSelector,
  EpollSelector,
  KqueueSelector,
  PollSelector,
  SelectSelector,
} from "../selectors/mod.ts";
import { KqueueEmulation } from "./_kqueue_emulation.ts";

/** A named way to make a fresh selector. */
export interface SelectorFactory {
  /** The name used in test names. */
  name: string;
  /** Makes a new selector. */
  make(): BaseSelector;
  /** Whether it can watch fds >= 1024. */
  highFds: boolean;
}

const onLinux = Deno.build.os === "linux";

/** The selectors to test on this machine (kqueue through the emulation on Linux). */
export const SELECTORS: SelectorFactory[] = [
  { name: "SelectSelector", make: () => new SelectSelector(), highFds: false },
  { name: "PollSelector", make: () => new PollSelector(), highFds: true },
  ...(onLinux ? [{ name: "EpollSelector", make: () => new EpollSelector(), highFds: true }] : []),
  {
    name: onLinux ? "KqueueSelector (emulated)" : "KqueueSelector",
    make: () => new KqueueSelector(onLinux ? { api: new KqueueEmulation() } : {}),
    highFds: true,
  },
  { name: "DefaultSelector", make: () => new DefaultSelector(), highFds: true },
];
