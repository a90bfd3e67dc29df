-- Media features beside the ladder: text tracks and chapters (small lists read with the video,
-- so they ride in its row and its cache), and the owner's download switch.

-- AlterTable
ALTER TABLE "video" ADD COLUMN "captions" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN "chapters" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN "downloads" BOOLEAN NOT NULL DEFAULT false;
