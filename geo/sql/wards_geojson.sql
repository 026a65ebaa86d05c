-- The current wards as one GeoJSON FeatureCollection, simplified for drawing
-- on a map (:tolerance_deg degrees), with code and name as properties.
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', COALESCE(json_agg(json_build_object(
        'type', 'Feature',
        'geometry', ST_AsGeoJSON(
            ST_SimplifyPreserveTopology(w.geom, :tolerance_deg), 6)::json,
        'properties', json_build_object(
            'ward_code', w.ward_code, 'ward_name', w.ward_name)
    ) ORDER BY w.ward_code), '[]'::json)
)::text AS geojson
FROM ward AS w
JOIN ward_set AS s ON s.ward_set_id = w.ward_set_id AND s.is_current
