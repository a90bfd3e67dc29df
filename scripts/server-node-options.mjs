// V8 heap settings for the reelkit-server process that `npm start` runs (and the read-load
// benchmark measures). V8 sizes its heap for throughput by default: under steady request load
// the young generation grows to 64 MiB per semi-space and the old generation's first limits are
// set from the machine's memory (gigabytes), so a server whose live heap was ≈ 50 MB held 400–580
// MB of RSS at its peak, mostly garbage not yet collected. These bound both; the operator's own
// NODE_OPTIONS setting either flag (or --max-heap-size) wins. Heap sizes cannot be changed once
// the process runs (v8.setFlagsFromString is too late), so they are passed at spawn.
//
// --max-semi-space-size=4   young generation ≤ 8 MiB (two 4 MiB semi-spaces): short-lived request
//                           garbage is collected every few MiB instead of every 64. Against 8 MiB
//                           semi-spaces: list reads under load 0–5 % fewer req/s, their peak RSS
//                           13 MB lower, an upload's 7 MB lower (docs/benchmarks.md, 2026-12-08).
// --max-old-space-size=512  a ceiling, not a target: V8 starts old-generation collections far
//                           earlier under it (old space stayed ≈ 75 MB under the read load) and the
//                           process fails with "heap out of memory" only past 512 MiB of live
//                           objects, ten times what the server holds.
export const SERVER_HEAP_FLAGS = ["--max-semi-space-size=4", "--max-old-space-size=512"];

const flagName = (arg) => arg.replace(/^--/, "").split("=")[0].replaceAll("_", "-");

/** NODE_OPTIONS for the server: the heap defaults, then the operator's NODE_OPTIONS (which win). */
export function serverNodeOptions(nodeOptions = "") {
  const given = new Set(nodeOptions.split(/\s+/).filter(Boolean).map(flagName));
  // V8 refuses --max-heap-size together with both of the others.
  const defaults = given.has("max-heap-size") ? [] : SERVER_HEAP_FLAGS.filter((f) => !given.has(flagName(f)));
  return [...defaults, nodeOptions].join(" ").trim();
}
