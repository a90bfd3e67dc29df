-- Channels: every user has a handle (`/c/<handle>`), an optional avatar and a description.
-- Users from before handles existed get one derived from their e-mail address (its local part,
-- reduced to the handle alphabet, at least 3 characters), made unique with a numeric suffix in
-- the order the accounts were created.

-- AlterTable
ALTER TABLE "auth_user" ADD COLUMN "handle" TEXT,
ADD COLUMN "avatar_key" TEXT,
ADD COLUMN "description" TEXT NOT NULL DEFAULT '';

DO $$
DECLARE
  u RECORD;
  base TEXT;
  candidate TEXT;
  n INT;
BEGIN
  FOR u IN SELECT "id", "email" FROM "auth_user" ORDER BY "created_at", "id" LOOP
    base := left(trim(both '-_' from regexp_replace(lower(split_part(u."email", '@', 1)), '[^a-z0-9_-]+', '-', 'g')), 24);
    IF base = '' THEN
      base := 'user';
    ELSIF length(base) < 3 THEN
      base := base || repeat('0', 3 - length(base));
    END IF;
    candidate := base;
    n := 1;
    WHILE EXISTS (SELECT 1 FROM "auth_user" WHERE "handle" = candidate) LOOP
      n := n + 1;
      candidate := base || '-' || n;
    END LOOP;
    UPDATE "auth_user" SET "handle" = candidate WHERE "id" = u."id";
  END LOOP;
END $$;

ALTER TABLE "auth_user" ALTER COLUMN "handle" SET NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "auth_user_handle_key" ON "auth_user"("handle");
