-- Insert the routed rows as imported complaints. Their public timeline comes
-- from source_status and source_closed_at (see app.public_complaint).
INSERT INTO complaint (
    tracking_id, external_id, category_id, source_category, description,
    geom, ward_id, department_id, status, channel, created_at, updated_at,
    due_at, resolved_at, n_supporters, source_status, source_closed_at
)
SELECT tracking_id, external_id, category_id, source_category, description,
       geom, ward_id, department_id, status, 'import', created_at, updated_at,
       due_at, closed_at, 0, status, closed_at
FROM routed
