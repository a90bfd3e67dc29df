-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- CreateEnum
CREATE TYPE "VideoStatus" AS ENUM ('UPLOADING', 'QUEUED', 'PROCESSING', 'READY', 'FAILED');

-- CreateTable
CREATE TABLE "video" (
    "id" UUID NOT NULL,
    "upload_id" TEXT,
    "owner_id" TEXT,
    "title" TEXT NOT NULL DEFAULT '',
    "description" TEXT NOT NULL DEFAULT '',
    "filename" TEXT,
    "status" "VideoStatus" NOT NULL DEFAULT 'UPLOADING',
    "failure_reason" TEXT,
    "progress" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "source_key" TEXT,
    "source_size" BIGINT,
    "duration" DOUBLE PRECISION,
    "width" INTEGER,
    "height" INTEGER,
    "frame_rate" DOUBLE PRECISION,
    "renditions" JSONB NOT NULL DEFAULT '[]',
    "master_key" TEXT,
    "poster_key" TEXT,
    "storyboard_key" TEXT,
    "storyboard_vtt_key" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "published_at" TIMESTAMPTZ(3),

    CONSTRAINT "video_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox" (
    "id" BIGSERIAL NOT NULL,
    "topic" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "video_upload_id_key" ON "video"("upload_id");

-- CreateIndex
CREATE INDEX "video_status_published_idx" ON "video"("status", "published_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "video_title_trgm_idx" ON "video" USING GIN ("title" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "outbox_unpublished_idx" ON "outbox"("published_at", "id");
