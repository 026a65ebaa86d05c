-- The complaints to insert from staged rows with a ward, routed: a ward rule
-- overrides the category's department and SLA. Rows outside every ward and
-- rows whose external id is already stored are left out.
CREATE TEMPORARY TABLE routed ON COMMIT DROP AS
SELECT l.tracking_id, l.external_id, c.category_id, l.source_category,
       COALESCE(l.description, '') AS description,
       ST_SetSRID(ST_MakePoint(l.lon, l.lat), 4326) AS geom,
       w.ward_id, COALESCE(r.department_id, c.default_department_id)
           AS department_id,
       l.status, l.created_at,
       COALESCE(l.closed_at, l.created_at) AS updated_at,
       l.created_at + make_interval(hours => COALESCE(r.sla_hours,
                                                      c.sla_hours)) AS due_at,
       l.closed_at
FROM staged_complaint AS l
JOIN staged_ward AS w USING (line_no)
JOIN category AS c ON c.slug = l.category_slug
LEFT JOIN routing_rule AS r
    ON r.category_id = c.category_id AND r.ward_code = w.ward_code
WHERE (l.external_id IS NULL OR NOT EXISTS (
      SELECT 1 FROM complaint AS x WHERE x.external_id = l.external_id))
