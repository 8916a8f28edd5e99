// The LOOPS and SELECTORS conformance suites, and the portable suites of tests/, run by
// deno.exe on Windows (under Wine in CI: `deno task test:windows`). On Windows
// tests/_loops.ts and tests/_selector_factories.ts give the Windows loops and selectors with
// their capabilities, so a test of what Windows lacks becomes a check of the platform table's
// refusal, or is ignored with the reason in its name. Elsewhere this file adds nothing:
// `deno task test` runs those files directly.
//
// The subprocess suites (subprocess_test.ts, process_test.ts) run on the ProactorEventLoop
// with cmd.exe or child deno.exe children; their Unix-only parts are ignored with the reason.
//
// Not here, being about Unix only: child watchers, errno tables, POSIX fd watching, libc,
// pipes, ptys, signals, spawn, POSIX structs and sockaddrs, AF_UNIX sockets, POSIX
// select()'s FD_SETSIZE (tests/windows/ has the Windows twins).
if (Deno.build.os === "windows") {
  await import("../event_loop_test.ts");
  await import("../future_test.ts");
  await import("../task_test.ts");
  await import("../helpers_test.ts");
  await import("../call_types_test.ts");
  await import("../clock_test.ts");
  await import("../read_pool_test.ts");
  await import("../read_memory_test.ts");
  await import("../web_streams_test.ts");
  await import("../net_socket_test.ts");
  await import("../getaddrinfo_test.ts");
  await import("../selectors_test.ts");
  await import("../bad_input_selectors_test.ts");
  await import("../fd_watcher_test.ts");
  await import("../platform_table_test.ts");
  await import("../policy_test.ts");
  await import("../runner_test.ts");
  await import("../deno_coexistence_test.ts");
  await import("../sock_ops_test.ts");
  await import("../server_test.ts");
  await import("../stream_transport_test.ts");
  await import("../datagram_test.ts");
  await import("../streams_test.ts");
  await import("../bad_input_loop_test.ts");
  await import("../sendfile_test.ts");
  await import("../subprocess_test.ts");
  await import("../process_test.ts");
}
