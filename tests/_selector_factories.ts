/** Every selector the conformance suites run against, by name. */
import {
  AfdSelector,
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
const onWindows = Deno.build.os === "windows";

/**
 * Every selector of this platform. On Windows: `SelectSelector` (Winsock
 * `select()`, whose SOCKET values are handles, so "high fds" mean nothing
 * there), `DefaultSelector` (the same class) and `AfdSelector` (AFD polling).
 */
export const SELECTORS: SelectorFactory[] = onWindows
  ? [
    { name: "SelectSelector", make: () => new SelectSelector(), highFds: true },
    { name: "DefaultSelector", make: () => new DefaultSelector(), highFds: true },
    { name: "AfdSelector", make: () => new AfdSelector(), highFds: true },
  ]
  : [
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
