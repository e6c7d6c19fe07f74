-- 0003_cell_hosts.sql: whether a cell runs compute hosts of its own.
--
-- A leaf cell always does; a cell with children does only when its
-- topology says 'hosts: true' (see cells.yaml(5)), and then it needs a
-- database of its own like a leaf.  The cell scheduler of the parent
-- considers such a cell as a candidate beside its children.
ALTER TABLE cell_mappings
    ADD COLUMN hosts TINYINT(1) NOT NULL DEFAULT 0 AFTER database_connection;

-- Cells recorded before this column existed: every cell below the root
-- that has no child cells is a leaf, and leaves have hosts.
UPDATE cell_mappings AS cell
    LEFT JOIN cell_mappings AS child ON child.parent_path = cell.path
    SET cell.hosts = 1
    WHERE child.id IS NULL AND cell.parent_path IS NOT NULL;
