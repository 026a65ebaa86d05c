-- Complaints in a box, counted per square grid cell :cell_deg degrees wide,
-- with the mean position of each cell's complaints; busiest cells first.
-- Every filter is optional (NULL = all). Complaints whose pin an operator has
-- still to place are left out: their point is only a stand-in.
SELECT count(*) AS n_complaints,
       avg(ST_X(c.geom)) AS lon,
       avg(ST_Y(c.geom)) AS lat
FROM complaint AS c
WHERE c.geom && ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326)
  AND NOT c.location_pending
  AND (CAST(:statuses AS text[]) IS NULL
       OR c.status = ANY(CAST(:statuses AS text[])))
  AND (CAST(:category_slug AS text) IS NULL
       OR c.category_id IN (SELECT category_id FROM category
                            WHERE slug = :category_slug))
  AND (CAST(:ward_code AS text) IS NULL
       OR c.ward_id IN (SELECT ward_id FROM ward WHERE ward_code = :ward_code))
  AND (CAST(:since AS timestamptz) IS NULL OR c.created_at >= :since)
  AND (CAST(:until AS timestamptz) IS NULL OR c.created_at < :until)
GROUP BY floor(ST_X(c.geom) / :cell_deg), floor(ST_Y(c.geom) / :cell_deg)
ORDER BY n_complaints DESC
LIMIT :limit
