-- 0007_cell_health.sql: the health of each cell, as the root's nova-cells
-- last heard of it.
--
-- 'last_heard_at' is the time of the cell's latest capacity report to its
-- parent (NULL: never heard from); 'health' is what its parent holds of
-- it: 'healthy', 'mute', 'excluded' or 'half-open' (NULL for the root and
-- for cells not reported yet); 'capacity' is its latest capacity report
-- (the JSON form of cells-rpc/cell-capacity.h).  nova-cells of the root
-- writes them; nova-manage and the os-cells API read them.
ALTER TABLE cell_mappings
    ADD COLUMN last_heard_at DATETIME(6) NULL,
    ADD COLUMN health VARCHAR(16) NULL,
    ADD COLUMN capacity TEXT NULL;
