-- The public timeline of one complaint, oldest first. An imported complaint
-- starts with two entries derived from its row (imported, then the status it
-- had in the source) instead of stored events; see migration 0004.
SELECT kind, status, body, created_at, event_id
FROM complaint_event
WHERE complaint_id = :complaint_id AND is_public
UNION ALL
SELECT 'imported', 'submitted', NULL, c.created_at, 0
FROM complaint AS c
WHERE c.complaint_id = :complaint_id AND c.source_status IS NOT NULL
UNION ALL
SELECT 'status_change', c.source_status, NULL,
       COALESCE(c.source_closed_at, c.created_at), 0
FROM complaint AS c
WHERE c.complaint_id = :complaint_id AND c.source_status IS NOT NULL
  AND c.source_status <> 'submitted'
ORDER BY created_at, event_id
