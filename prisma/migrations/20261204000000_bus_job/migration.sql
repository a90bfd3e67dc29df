-- The embedded bus: a durable job queue. A consumer claims rows with a lease (FOR UPDATE SKIP
-- LOCKED), deletes a row once its work is done, and hands it back when it stops; a row whose
-- lease ran out is claimed again. Rows that failed too often are parked (kept, never delivered).
CREATE TABLE "bus_job" (
    "id" BIGSERIAL NOT NULL,
    "topic" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "available_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lease_owner" TEXT,
    "lease_until" TIMESTAMPTZ(3),
    "parked_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bus_job_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "bus_job_claim_idx" ON "bus_job"("topic", "parked_at", "available_at", "id");

-- CreateIndex
CREATE INDEX "bus_job_key_idx" ON "bus_job"("key");

-- Several server instances relay the outbox: a relay claims the rows it publishes for a while,
-- so no two instances send the same row (a crashed relay's claim simply runs out).
ALTER TABLE "outbox" ADD COLUMN "claimed_by" TEXT,
                     ADD COLUMN "claimed_until" TIMESTAMPTZ(3);
