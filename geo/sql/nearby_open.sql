-- Open complaints of one category within a radius (metres, on the spheroid)
-- filed since a given time, nearest first. The degree box lets the planner use
-- the GiST index on complaint.geom; ST_DWithin on geography then measures.
SELECT c.tracking_id, c.description, c.status, c.created_at, c.n_supporters,
       ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat,
       ST_Distance(c.geom::geography, p.pt::geography) AS distance_m
FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS pt) AS p
JOIN complaint AS c
    ON c.geom && ST_Expand(p.pt, :radius_m / 111000.0 / cos(radians(:lat)))
   AND ST_DWithin(c.geom::geography, p.pt::geography, :radius_m)
JOIN category AS cat ON cat.category_id = c.category_id
WHERE cat.slug = :category_slug
  AND c.status IN ('submitted', 'acknowledged', 'in_progress')
  AND c.created_at >= :since
  AND NOT c.location_pending
ORDER BY distance_m, c.created_at DESC
LIMIT :limit
