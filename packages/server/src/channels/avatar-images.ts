import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FfmpegError, runContained } from "@reelkit/transcoder";

/** Side of the square avatar, in pixels (shown at up to 128 CSS px: sharp on 2× screens). */
export const AVATAR_SIZE = 256;
/** Largest image accepted for an avatar, in bytes. */
export const AVATAR_MAX_BYTES = 5 * 1024 * 1024;

/**
 * ffmpeg's arguments for one avatar: the first frame of `input`, scaled to cover a
 * `size`×`size` square and cropped to its centre, written as a JPEG to `output`. The input
 * goes through the image-pipe demuxer, which probes image codecs only: a video, a playlist or
 * anything else that is not a still image is refused.
 */
export function avatarArgs(opts: { input: string; output: string; size?: number }): string[] {
  const size = opts.size ?? AVATAR_SIZE;
  return [
    "-hide_banner",
    "-nostdin",
    "-v",
    "error",
    "-f",
    "image2pipe",
    "-i",
    opts.input,
    "-frames:v",
    "1",
    "-vf",
    `scale=${size}:${size}:force_original_aspect_ratio=increase,crop=${size}:${size},format=yuvj420p`,
    "-c:v",
    "mjpeg",
    "-q:v",
    "3",
    "-f",
    "image2",
    "-y",
    opts.output,
  ];
}

export class InvalidImageError extends Error {
  constructor(reason: string) {
    super(`Not an image that can be read: ${reason}`);
    this.name = "InvalidImageError";
  }
}

/**
 * Resizes uploaded avatars with ffmpeg, which the server already runs for transcoding (no
 * second image library, no further native dependency): a JPEG, PNG, WebP or GIF in, a
 * square JPEG out.
 */
export class AvatarImages {
  constructor(private readonly ffmpeg: string) {}

  async resize(image: Buffer): Promise<Buffer> {
    const dir = await mkdtemp(path.join(tmpdir(), "reelkit-avatar-"));
    try {
      const input = path.join(dir, "input.img");
      const output = path.join(dir, "avatar.jpg");
      await writeFile(input, image);
      try {
        await runContained({ command: this.ffmpeg, args: avatarArgs({ input, output }) });
      } catch (err) {
        if (err instanceof FfmpegError) throw new InvalidImageError(err.message.split(": ").slice(1).join(": ") || "");
        throw err;
      }
      return await readFile(output);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
