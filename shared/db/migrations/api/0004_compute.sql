-- 0004_compute.sql: what the compute API serves from the API cell: the top
-- view of every instance, flavors, keypairs and quotas.
--
-- Times are DATETIME(6) in UTC.  Soft deletion follows Nova: 'deleted' is
-- 0 for a live row and the row's id once deleted, so unique keys that
-- include it allow a name to be reused.

-- The top view: one row per instance of the whole tree, as its leaf cell
-- last reported it.  nova-api writes the row when it accepts a boot (its
-- 'cell_path' is then NULL: the build request), and nova-cells of the API
-- cell applies every update that comes up the tree, unless the row holds
-- an update_seq at least as new.  Lists and shows are answered from here,
-- never by asking the cells.  'instance' is the INSTANCE JSON of
-- child-cell/rpcapi.h as last applied; the other columns copy the fields
-- that lists filter and sort on.  'fault' is the latest FAULT JSON
-- (cells-rpc/cells-rpcapi.h) of an instance in error, or NULL.  'locked'
-- and 'locked_by' belong to the API cell (lock and unlock are API
-- actions): updates from below never change them.
CREATE TABLE instances (
    id BIGINT NOT NULL AUTO_INCREMENT,
    uuid VARCHAR(36) NOT NULL,
    project_id VARCHAR(255) NOT NULL,
    user_id VARCHAR(255) NOT NULL,
    display_name VARCHAR(255) NULL,
    cell_path VARCHAR(255) NULL,
    host VARCHAR(255) NULL,
    node VARCHAR(255) NULL,
    vm_state VARCHAR(32) NOT NULL,
    task_state VARCHAR(32) NULL,
    power_state INT NOT NULL DEFAULT 0,
    availability_zone VARCHAR(255) NULL,
    flavorid VARCHAR(255) NOT NULL,
    vcpus INT NOT NULL,
    memory_mb INT NOT NULL,
    image_ref VARCHAR(255) NULL,
    key_name VARCHAR(255) NULL,
    locked TINYINT(1) NOT NULL DEFAULT 0,
    locked_by VARCHAR(16) NULL,
    instance MEDIUMTEXT NOT NULL,
    fault TEXT NULL,
    update_seq BIGINT NOT NULL DEFAULT 0,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NULL,
    launched_at DATETIME(6) NULL,
    terminated_at DATETIME(6) NULL,
    deleted_at DATETIME(6) NULL,
    deleted BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_instances0uuid (uuid),
    KEY instances_project_deleted_created_idx (project_id, deleted,
                                               created_at),
    KEY instances_deleted_created_idx (deleted, created_at),
    KEY instances_updated_at_idx (updated_at),
    KEY instances_host_idx (host),
    KEY instances_cell_path_idx (cell_path)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Flavors, as Nova's API database has them.  'flavorid' is the API id.
CREATE TABLE flavors (
    id INT NOT NULL AUTO_INCREMENT,
    flavorid VARCHAR(255) NOT NULL,
    name VARCHAR(255) NOT NULL,
    vcpus INT NOT NULL,
    memory_mb INT NOT NULL,
    root_gb INT NOT NULL DEFAULT 0,
    ephemeral_gb INT NOT NULL DEFAULT 0,
    swap INT NOT NULL DEFAULT 0,
    rxtx_factor DOUBLE NOT NULL DEFAULT 1,
    is_public TINYINT(1) NOT NULL DEFAULT 1,
    disabled TINYINT(1) NOT NULL DEFAULT 0,
    description TEXT NULL,
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_flavors0flavorid (flavorid),
    UNIQUE KEY uniq_flavors0name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE flavor_extra_specs (
    id INT NOT NULL AUTO_INCREMENT,
    flavor_id INT NOT NULL,
    spec_key VARCHAR(255) NOT NULL,
    spec_value VARCHAR(255) NOT NULL,
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_flavor_extra_specs0flavor_id0spec_key (flavor_id,
                                                           spec_key),
    CONSTRAINT flavor_extra_specs_flavor_fk
        FOREIGN KEY (flavor_id) REFERENCES flavors (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Projects that may use a private flavor (is_public = 0).
CREATE TABLE flavor_projects (
    id INT NOT NULL AUTO_INCREMENT,
    flavor_id INT NOT NULL,
    project_id VARCHAR(255) NOT NULL,
    created_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_flavor_projects0flavor_id0project_id (flavor_id,
                                                          project_id),
    CONSTRAINT flavor_projects_flavor_fk
        FOREIGN KEY (flavor_id) REFERENCES flavors (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Keypairs belong to a user; names are unique per user.
CREATE TABLE key_pairs (
    id INT NOT NULL AUTO_INCREMENT,
    name VARCHAR(255) NOT NULL,
    user_id VARCHAR(255) NOT NULL,
    fingerprint VARCHAR(255) NOT NULL,
    public_key MEDIUMTEXT NOT NULL,
    type VARCHAR(8) NOT NULL DEFAULT 'ssh',
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_key_pairs0user_id0name (user_id, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Per-project quota limits that differ from the configured defaults
-- (-1 is unlimited).  'resource' is a Nova quota name: instances, cores,
-- ram, key_pairs, metadata_items, server_groups, server_group_members,
-- injected_files, injected_file_content_bytes, injected_file_path_bytes.
CREATE TABLE quotas (
    id INT NOT NULL AUTO_INCREMENT,
    project_id VARCHAR(255) NOT NULL,
    resource VARCHAR(255) NOT NULL,
    hard_limit INT NOT NULL,
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_quotas0project_id0resource (project_id, resource)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
