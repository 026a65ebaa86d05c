-- Distance in metres from a point to the boundary of the current ward that
-- covers it (NULL outside every ward).
SELECT ST_Distance(ST_Boundary(w.geom)::geography, p.pt::geography) AS distance_m
FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS pt) AS p
JOIN ward AS w ON w.ward_id = :ward_id
