-- The fence of a claim, apart from the attempt count: every claim and every resend advances it
-- and nothing lowers it, so a value names one claim step forever. (The attempt count went back
-- down when a claim was released unsent, and a stale owner's write could then match a newer
-- claim with the same count.) Claims in flight when this runs keep their fence: it starts at
-- the attempt count, which is what instances of the previous version fence on.
ALTER TABLE invoices ADD COLUMN fence INTEGER NOT NULL DEFAULT 0 CHECK (fence >= 0);
UPDATE invoices SET fence = attempts;
