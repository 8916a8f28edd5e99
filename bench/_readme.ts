/** Rewriting the generated tables of bench/README.md between their markers. */

const README = new URL("./README.md", import.meta.url);

/**
 * Puts `body` between the `begin` and `end` markers of bench/README.md;
 * says so on stderr, and changes nothing, when the markers are missing.
 */
export async function updateReadmeSection(begin: string, end: string, body: string): Promise<void> {
  const readme = await Deno.readTextFile(README).catch(() => "");
  const a = readme.indexOf(begin), b = readme.indexOf(end);
  if (a < 0 || b < a) {
    console.error(`bench/README.md has no ${begin} … ${end} markers: not updated`);
    return;
  }
  await Deno.writeTextFile(
    README,
    readme.slice(0, a + begin.length) + "\n\n" + body + "\n" + readme.slice(b),
  );
}
