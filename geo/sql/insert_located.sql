-- Turn located staging rows into complaints and their first timeline events.
-- A ward-specific rule overrides the category's department and SLA; rows whose
-- external id is already stored are skipped, so a re-import adds nothing.
WITH inserted AS (
    INSERT INTO complaint (
        tracking_id, external_id, category_id, source_category, description,
        geom, ward_id, department_id, status, channel, created_at, updated_at,
        due_at, resolved_at, n_supporters
    )
    SELECT l.tracking_id, l.external_id, c.category_id, l.source_category,
           COALESCE(l.description, ''), ST_SetSRID(ST_MakePoint(l.lon, l.lat), 4326),
           l.ward_id, COALESCE(r.department_id, c.default_department_id),
           l.status, 'import', l.created_at,
           COALESCE(l.closed_at, l.created_at),
           l.created_at + make_interval(hours => COALESCE(r.sla_hours,
                                                          c.sla_hours)),
           l.closed_at, 0
    FROM located AS l
    JOIN category AS c ON c.slug = l.category_slug
    LEFT JOIN routing_rule AS r
        ON r.category_id = c.category_id AND r.ward_code = l.ward_code
    WHERE l.ward_id IS NOT NULL
    ON CONFLICT (external_id) DO NOTHING
    RETURNING complaint_id, status, created_at, resolved_at
), imported_events AS (
    INSERT INTO complaint_event (complaint_id, kind, status, body, is_public,
                                 created_at)
    SELECT complaint_id, 'imported', 'submitted', :note, true, created_at
    FROM inserted
), closing_events AS (
    INSERT INTO complaint_event (complaint_id, kind, status, body, is_public,
                                 created_at)
    SELECT complaint_id, 'status_change', status, NULL, true,
           COALESCE(resolved_at, created_at)
    FROM inserted
    WHERE status <> 'submitted'
)
SELECT count(*) FROM inserted
