-- Complaints for export, oldest first; every filter is optional (NULL = all).
-- Reporter contact columns are never selected.
SELECT c.tracking_id, c.external_id, cat.slug AS category, c.source_category,
       c.status, c.channel, c.created_at, c.due_at, c.resolved_at,
       w.ward_code, d.code AS department, c.n_supporters, c.description,
       ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat
FROM complaint AS c
JOIN category AS cat ON cat.category_id = c.category_id
JOIN ward AS w ON w.ward_id = c.ward_id
JOIN department AS d ON d.department_id = c.department_id
WHERE (CAST(:ward_code AS text) IS NULL OR w.ward_code = :ward_code)
  AND (CAST(:category_slug AS text) IS NULL OR cat.slug = :category_slug)
  AND (CAST(:status AS text) IS NULL OR c.status = :status)
  AND (CAST(:since AS timestamptz) IS NULL OR c.created_at >= :since)
  AND (CAST(:until AS timestamptz) IS NULL OR c.created_at < :until)
ORDER BY c.created_at, c.complaint_id
