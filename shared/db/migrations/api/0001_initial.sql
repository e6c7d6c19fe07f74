-- 0001_initial.sql: the API database: the cell tree, where each instance
-- lives and which cell each compute host belongs to.
--
-- Migration files are append-only: never edit one that has been released,
-- add the next number instead.  A statement ends with ';' at the end of a
-- line; lines starting with '--' are comments (see build-aux/sql2c.sh).
-- Times are DATETIME(6) in UTC.

-- One row per cell of the tree, the API cell included.  'path' names the
-- cell from the root ('api!east!east-1'); 'parent_path' is NULL for the
-- root.  'availability_zones' is a JSON list of names and 'capabilities'
-- a JSON object, both as reported by the cell.
CREATE TABLE cell_mappings (
    id INT NOT NULL AUTO_INCREMENT,
    uuid VARCHAR(36) NOT NULL,
    name VARCHAR(255) NOT NULL,
    path VARCHAR(255) NOT NULL,
    parent_path VARCHAR(255) NULL,
    transport_url TEXT NULL,
    database_connection TEXT NULL,
    disabled TINYINT(1) NOT NULL DEFAULT 0,
    weight_offset DOUBLE NOT NULL DEFAULT 0,
    weight_scale DOUBLE NOT NULL DEFAULT 1,
    availability_zones TEXT NULL,
    capabilities TEXT NULL,
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_cell_mappings0uuid (uuid),
    UNIQUE KEY uniq_cell_mappings0name (name),
    UNIQUE KEY uniq_cell_mappings0path (path),
    KEY cell_mappings_parent_path_idx (parent_path)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Where an instance lives: 'cell_path' is NULL until a leaf cell has
-- placed it.
CREATE TABLE instance_mappings (
    id INT NOT NULL AUTO_INCREMENT,
    instance_uuid VARCHAR(36) NOT NULL,
    cell_path VARCHAR(255) NULL,
    project_id VARCHAR(255) NOT NULL,
    user_id VARCHAR(255) NULL,
    queued_for_delete TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_instance_mappings0instance_uuid (instance_uuid),
    KEY instance_mappings_project_id_idx (project_id),
    KEY instance_mappings_cell_path_idx (cell_path)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Which leaf cell a compute host belongs to.
CREATE TABLE host_mappings (
    id INT NOT NULL AUTO_INCREMENT,
    host VARCHAR(255) NOT NULL,
    cell_path VARCHAR(255) NOT NULL,
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_host_mappings0host (host),
    KEY host_mappings_cell_path_idx (cell_path)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
