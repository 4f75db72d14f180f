-- A node says whether it mails notices (role all or router, with SMTP_URL): the notices component
-- sets it when its sender starts. The portal and `filudveksling status` tell from the live nodes'
-- flags whether anybody mails the outbox at all.
ALTER TABLE nodes ADD COLUMN mails_notices boolean NOT NULL DEFAULT false;
