// AfdSelector off Windows: the constructor refuses, naming the platform and the selectors to
// use instead. (On Windows, tests/windows/afd_selector_test.ts runs it on real sockets.)
import { assertStringIncludes, assertThrows } from "@std/assert";
import { AfdSelector } from "../mod.ts";

Deno.test({
  name: "AfdSelector: off Windows the constructor throws NotSupported naming the alternatives",
  ignore: Deno.build.os === "windows",
  fn() {
    const e = assertThrows(() => new AfdSelector(), Deno.errors.NotSupported);
    assertStringIncludes(e.message, "AfdSelector");
    assertStringIncludes(e.message, Deno.build.os);
    assertStringIncludes(e.message, "EpollSelector");
    assertStringIncludes(e.message, "DefaultSelector");
  },
});
