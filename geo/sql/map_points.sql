-- The newest complaints in a box, for the map at street level. Filters as in
-- map_cells.sql. Reporter contact columns are never selected.
-- The box is small at street level, so its complaints are found first
-- (GiST index) and then sorted; walking the created_at index newest first
-- instead is slow whenever the filters keep few of them.
WITH in_box AS MATERIALIZED (
    SELECT c.complaint_id, c.tracking_id, c.category_id, c.status,
           c.created_at, c.geom
    FROM complaint AS c
    WHERE c.geom && ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat,
                                    4326)
      AND NOT c.location_pending
      AND (CAST(:statuses AS text[]) IS NULL
           OR c.status = ANY(CAST(:statuses AS text[])))
      AND (CAST(:category_slug AS text) IS NULL
           OR c.category_id IN (SELECT category_id FROM category
                                WHERE slug = :category_slug))
      AND (CAST(:ward_code AS text) IS NULL
           OR c.ward_id IN (SELECT ward_id FROM ward
                            WHERE ward_code = :ward_code))
      AND (CAST(:since AS timestamptz) IS NULL OR c.created_at >= :since)
      AND (CAST(:until AS timestamptz) IS NULL OR c.created_at < :until)
)
SELECT b.tracking_id, cat.slug AS category_slug, cat.name AS category_name,
       b.status, b.created_at,
       ST_X(b.geom) AS lon, ST_Y(b.geom) AS lat
FROM in_box AS b
JOIN category AS cat ON cat.category_id = b.category_id
ORDER BY b.created_at DESC, b.complaint_id DESC
LIMIT :limit
