-- Bounding box of the current ward set; NULLs when no wards are loaded.
SELECT ST_XMin(e) AS min_lon, ST_YMin(e) AS min_lat,
       ST_XMax(e) AS max_lon, ST_YMax(e) AS max_lat
FROM (
    SELECT ST_Extent(w.geom) AS e
    FROM ward AS w
    JOIN ward_set AS s ON s.ward_set_id = w.ward_set_id AND s.is_current
) AS q
