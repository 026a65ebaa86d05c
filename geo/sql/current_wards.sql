-- The wards of the current set, for maps and sampling.
SELECT w.ward_id, w.ward_code, w.ward_name, w.population, w.area_m2, w.geom
FROM ward AS w
JOIN ward_set AS s ON s.ward_set_id = w.ward_set_id AND s.is_current
ORDER BY w.ward_code
