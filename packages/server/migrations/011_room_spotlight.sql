-- Lecture mode: the spotlight may show a learner's assignment room (that room's session) instead
-- of a participant of the lecture room; null when it shows a participant, or nothing.
alter table lectures add column spotlight_session_id text;
