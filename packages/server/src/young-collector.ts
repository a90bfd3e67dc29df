import v8 from "node:v8";
import vm from "node:vm";

export type GcFunction = (options: {
  type: "major" | "minor";
  execution: "sync";
  flavor?: "regular" | "last-resort";
}) => void;

/**
 * V8's `gc()`, made reachable without starting the process with `--expose-gc`: the flag is read
 * when a context is created, so a fresh `vm` context has the function.
 */
export function exposedGc(): GcFunction {
  const existing = (globalThis as { gc?: GcFunction }).gc;
  if (typeof existing === "function") return existing;
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as GcFunction;
}

/**
 * Paces young-generation collections by bytes streamed rather than by JavaScript allocated.
 *
 * Every socket read hands the request body over in a fresh Buffer (64 KiB at most) whose memory
 * lives outside the JavaScript heap. A young-generation collection frees the ones already written,
 * but V8 runs one only after its young generation fills with JavaScript objects, and streaming a
 * body allocates few: an upload of hundreds of MiB leaves that external memory growing until V8's
 * external-memory limits force a full mark-compact of the
 * whole heap, ten of them for 256 MiB, each costing tens of milliseconds on a server's heap
 * (docs/benchmarks.md, uploads). A young collection every `everyBytes` (about a millisecond: it
 * visits live young objects only) keeps that external memory under the limit.
 */
export class YoungCollector {
  private since = 0;
  private gc: GcFunction | null = null;

  constructor(
    private readonly everyBytes: number,
    private readonly collect?: () => void,
  ) {}

  /** Counts `bytes` streamed; collects the young generation once `everyBytes` have passed. */
  streamed(bytes: number): void {
    this.since += bytes;
    if (this.since < this.everyBytes) return;
    this.since = 0;
    if (this.collect) {
      this.collect();
      return;
    }
    this.gc ??= exposedGc();
    this.gc({ type: "minor", execution: "sync" });
  }
}
