-- The current ward nearest to a point, with the distance in metres.
-- The KNN operator orders by planar degrees; the distance is then measured on
-- the spheroid for the few nearest candidates.
SELECT ward_code, ST_Distance(geom::geography, pt::geography) AS distance_m
FROM (
    SELECT p.ward_code, p.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS pt
    FROM ward_part AS p
    JOIN ward_set AS s ON s.ward_set_id = p.ward_set_id AND s.is_current
    ORDER BY p.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
    LIMIT 8
) AS candidates
ORDER BY distance_m, ward_code
LIMIT 1
