-- Assign the current ward to every staged point, set-based. The points get a
-- GiST index of their own and each ward piece probes it, so PostGIS can reuse
-- one prepared polygon for all the points it tests. On a shared boundary the
-- lowest ward code wins. Rows outside every ward get no staged_ward row.
--
-- The two tables are unlogged rather than temporary so that parallel workers
-- can share the join. They are created and dropped inside the importing
-- transaction, which holds a lock that keeps other imports out, so no other
-- session ever sees them.
CREATE UNLOGGED TABLE staged_point AS
SELECT line_no, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS pt
FROM staged_complaint;

CREATE INDEX ON staged_point USING gist (pt);
ANALYZE staged_point;

CREATE UNLOGGED TABLE staged_ward AS
SELECT DISTINCT ON (s.line_no) s.line_no, p.ward_id, p.ward_code
FROM ward_part AS p
JOIN staged_point AS s ON ST_Covers(p.geom, s.pt)
WHERE p.ward_set_id = :ward_set_id
ORDER BY s.line_no, p.ward_code;

CREATE UNIQUE INDEX ON staged_ward (line_no);
ANALYZE staged_ward;
