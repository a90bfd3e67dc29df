import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * A real small filesystem for disk-full tests: a size-limited tmpfs mount. Needs root (or
 * CAP_SYS_ADMIN); `tmpfsMissing` says why it cannot be had, for `describeWith("tmpfs", …)`.
 */
export const tmpfsMissing: string | null = (() => {
  if (process.platform !== "linux") return "tmpfs mounts are Linux only";
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), "reelkit-tmpfs-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { stdio: "ignore" });
    execFileSync("umount", [probe], { stdio: "ignore" });
    return null;
  } catch {
    return "cannot mount a tmpfs (needs root or CAP_SYS_ADMIN)";
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
})();

export interface Tmpfs {
  dir: string;
  /** Writes a file until the filesystem has no space left. */
  fill(): void;
  unmount(): void;
}

export function mountTmpfs(sizeKiB: number): Tmpfs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reelkit-tmpfs-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKiB}k`, "tmpfs", dir], { stdio: "ignore" });
  return {
    dir,
    fill() {
      const fd = fs.openSync(path.join(dir, "filler"), "w");
      const block = Buffer.alloc(4096, 1);
      try {
        for (;;) fs.writeSync(fd, block);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
      } finally {
        fs.closeSync(fd);
      }
    },
    unmount() {
      execFileSync("umount", [dir], { stdio: "ignore" });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
