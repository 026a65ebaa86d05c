-- Ids of the newest complaints in a time window, newest first, at most :limit.
-- Missing bounds become +/- infinity rather than an OR, so both bounds stay
-- index conditions: the planner walks complaint_created_at backwards and
-- stops after :limit rows, or, for a rare category, reads the matching rows
-- of complaint_category_created and keeps the newest :limit in a top-N sort.
SELECT c.complaint_id
FROM complaint AS c
WHERE c.created_at >= COALESCE(CAST(:since AS timestamptz), '-infinity')
  AND c.created_at <= COALESCE(CAST(:until AS timestamptz), 'infinity')
  AND c.status = ANY(CAST(:statuses AS text[]))
  AND (CAST(:category_ids AS integer[]) IS NULL
       OR c.category_id = ANY(CAST(:category_ids AS integer[])))
ORDER BY c.created_at DESC, c.complaint_id DESC
LIMIT :limit
