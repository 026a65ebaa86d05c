-- One complaint as the public tracking page shows it, with its ward's outline
-- (simplified, GeoJSON). Reporter contact columns are never selected, and a
-- stand-in point (location_pending) is not shown as if it were the place.
SELECT c.complaint_id, c.tracking_id, c.description, c.address, c.status,
       c.created_at, c.due_at, c.resolved_at, c.n_supporters,
       c.location_pending,
       cat.slug AS category_slug, cat.name AS category_name,
       w.ward_code, w.ward_name, d.name AS department_name,
       dup.tracking_id AS duplicate_of,
       CASE WHEN NOT c.location_pending THEN ST_X(c.geom) END AS lon,
       CASE WHEN NOT c.location_pending THEN ST_Y(c.geom) END AS lat,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(w.geom, :tolerance_deg), 6)
           AS ward_geojson
FROM complaint AS c
JOIN category AS cat ON cat.category_id = c.category_id
JOIN ward AS w ON w.ward_id = c.ward_id
JOIN department AS d ON d.department_id = c.department_id
LEFT JOIN complaint AS dup ON dup.complaint_id = c.duplicate_of
WHERE c.tracking_id = :tracking_id
