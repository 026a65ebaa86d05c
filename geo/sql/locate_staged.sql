-- Assign the current ward to every staged point, set-based: one lateral
-- GiST probe per row. Rows outside every ward keep a NULL ward_id.
CREATE TEMPORARY TABLE located ON COMMIT DROP AS
SELECT s.*, w.ward_id, w.ward_code
FROM staged_complaint AS s
LEFT JOIN LATERAL (
    SELECT p.ward_id, p.ward_code
    FROM ward_part AS p
    WHERE p.ward_set_id = :ward_set_id
      AND ST_Covers(p.geom, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326))
    ORDER BY p.ward_code
    LIMIT 1
) AS w ON true
