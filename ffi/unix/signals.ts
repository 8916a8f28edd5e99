/**
 * Signal numbers of this OS, by Deno's names (`"SIGUSR1"`), and back:
 * wait statuses carry numbers, Deno's signal APIs take names.
 *
 * @module
 */
import { OS } from "./_abi.ts";

const LINUX: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
  SIGUNUSED: 31,
};

// macOS and the BSDs share the 4.4BSD numbering.
const BSD: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGEMT: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGBUS: 10,
  SIGSEGV: 11,
  SIGSYS: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGURG: 16,
  SIGSTOP: 17,
  SIGTSTP: 18,
  SIGCONT: 19,
  SIGCHLD: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGIO: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGINFO: 29,
  SIGUSR1: 30,
  SIGUSR2: 31,
};

/** The signal numbers of this OS by Deno name (empty on Windows). */
export const SIGNAL_NUMBERS: Readonly<Record<string, number>> = OS === "linux"
  ? LINUX
  : OS === "windows"
  ? {}
  : BSD;

const NAMES = new Map<number, Deno.Signal>();
for (const [name, num] of Object.entries(SIGNAL_NUMBERS)) {
  if (!NAMES.has(num)) NAMES.set(num, name as Deno.Signal);
}

/** The number of the signal `name` on this OS, or `undefined` if it has none. */
export function signalNumber(name: string): number | undefined {
  return Object.hasOwn(SIGNAL_NUMBERS, name) ? SIGNAL_NUMBERS[name] : undefined;
}

/** Deno's name of signal number `n` on this OS (`"SIGKILL"` for 9), or `undefined`. */
export function signalName(n: number): Deno.Signal | undefined {
  return NAMES.get(n);
}
