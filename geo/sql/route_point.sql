-- Ward, department and due time for one point and one category.
-- The lateral lookup probes the GiST index on the subdivided ward parts; on a
-- shared boundary ST_Covers is true for both wards and the lowest code wins.
SELECT c.category_id,
       w.ward_id,
       w.ward_code,
       w.ward_name,
       d.department_id,
       d.code AS department_code,
       d.name AS department_name,
       CAST(:filed_at AS timestamptz)
           + make_interval(hours => COALESCE(r.sla_hours, c.sla_hours)) AS due_at
FROM category AS c
LEFT JOIN LATERAL (
    SELECT p.ward_id, p.ward_code, ward.ward_name
    FROM ward_part AS p
    JOIN ward_set AS s ON s.ward_set_id = p.ward_set_id AND s.is_current
    JOIN ward ON ward.ward_id = p.ward_id
    WHERE ST_Covers(p.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
    ORDER BY p.ward_code
    LIMIT 1
) AS w ON true
LEFT JOIN routing_rule AS r
    ON r.category_id = c.category_id AND r.ward_code = w.ward_code
JOIN department AS d
    ON d.department_id = COALESCE(r.department_id, c.default_department_id)
WHERE c.slug = :category_slug AND c.is_active
