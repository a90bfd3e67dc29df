-- The poster an owner chose from any time of the video: the frame's time (its image is stored
-- beside the transcoder's poster, and poster_key names it); null keeps the transcoder's poster.

-- AlterTable
ALTER TABLE "video" ADD COLUMN "poster_time" DOUBLE PRECISION;
