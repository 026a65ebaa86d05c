-- Open and total complaints per current ward (aggregated in the database).
SELECT w.ward_code, w.ward_name,
       count(c.complaint_id) AS n_complaints,
       count(c.complaint_id) FILTER (
           WHERE c.status IN ('submitted', 'acknowledged', 'in_progress')
       ) AS n_open
FROM ward AS w
JOIN ward_set AS s ON s.ward_set_id = w.ward_set_id AND s.is_current
LEFT JOIN complaint AS c ON c.ward_id = w.ward_id
GROUP BY w.ward_code, w.ward_name
ORDER BY w.ward_code
