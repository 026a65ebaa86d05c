-- The public face of some complaints, newest first: what, where, who acts,
-- when, and the first photo. Reporter contact columns are never selected.
SELECT c.complaint_id, c.tracking_id, c.status, c.description, c.address,
       c.location_pending, c.created_at, c.updated_at, c.due_at,
       cat.slug AS category_slug, cat.name AS category_name,
       d.name AS department_name, w.ward_code,
       ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat,
       p.storage_key AS photo_key
FROM complaint AS c
JOIN category AS cat ON cat.category_id = c.category_id
JOIN department AS d ON d.department_id = c.department_id
JOIN ward AS w ON w.ward_id = c.ward_id
LEFT JOIN photo AS p ON p.complaint_id = c.complaint_id AND p.position = 1
WHERE c.complaint_id = ANY(CAST(:complaint_ids AS bigint[]))
ORDER BY c.created_at DESC, c.complaint_id DESC
