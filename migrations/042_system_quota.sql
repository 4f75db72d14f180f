-- Issue 12 item 3: what one system may make the server hold. Bytes in its /OUT (allocated blocks)
-- and its transfers still in the spool; past it an upload's write fails with a message naming it.
-- `filudveksling system update <user> --quota <bytes|100GiB>` changes it. Default 100 GiB.
ALTER TABLE systems ADD COLUMN quota_bytes bigint NOT NULL DEFAULT 107374182400 CHECK (quota_bytes > 0);
