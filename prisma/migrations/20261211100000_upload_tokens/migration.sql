-- Upload tokens carry the video's settings (visibility, description, tags, allowed content
-- types and the site's own `passthrough`, kept on the video); API keys get a scope and their
-- own upload limits.

-- AlterTable
ALTER TABLE "video" ADD COLUMN "passthrough" TEXT;

-- AlterTable
ALTER TABLE "upload_token" ADD COLUMN "description" TEXT,
ADD COLUMN "visibility" "Visibility" NOT NULL DEFAULT 'UNLISTED',
ADD COLUMN "tags" TEXT[] NOT NULL DEFAULT '{}',
ADD COLUMN "content_types" TEXT[] NOT NULL DEFAULT '{}',
ADD COLUMN "passthrough" TEXT;

-- AlterTable
ALTER TABLE "api_key" ADD COLUMN "scope" TEXT NOT NULL DEFAULT 'full',
ADD COLUMN "max_unfinished_uploads" INTEGER,
ADD COLUMN "uploads_per_minute" INTEGER;
