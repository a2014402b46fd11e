-- The plain text of each file as of the stored base, written with it (session creation and every
-- compaction). A room nobody has open answers GET …/document from here without loading Automerge
-- (hundreds of milliseconds for a long history) whenever no chunk was appended after the base.
-- Null for bases compacted before this column existed, until their next compaction.
alter table documents add column files jsonb;
