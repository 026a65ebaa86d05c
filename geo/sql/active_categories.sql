-- Active categories in form order, with their group and Open311 attributes.
-- A NULL slug lists them all; a slug picks one.
SELECT c.slug, c.name, c.group_name, c.attributes
FROM category AS c
WHERE c.is_active
  AND (CAST(:slug AS text) IS NULL OR c.slug = :slug)
ORDER BY c.position, c.name, c.slug
