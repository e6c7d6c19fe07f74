-- 0001_initial.sql: the cell database of a leaf cell: services, compute
-- nodes, instances and their faults and actions.
--
-- Migration files are append-only: never edit one that has been released,
-- add the next number instead.  A statement ends with ';' at the end of a
-- line; lines starting with '--' are comments (see build-aux/sql2c.sh).
-- Column names follow Nova's.  Times are DATETIME(6) in UTC.  Soft-deleted
-- rows have 'deleted' set to their own 'id' (0 while alive), so unique keys
-- that include 'deleted' allow a name to be reused after a delete.

-- One row per service process (nova-compute, nova-conductor, ...) per host.
CREATE TABLE services (
    id INT NOT NULL AUTO_INCREMENT,
    uuid VARCHAR(36) NOT NULL,
    host VARCHAR(255) NULL,
    `binary` VARCHAR(255) NULL,
    topic VARCHAR(255) NULL,
    report_count INT NOT NULL DEFAULT 0,
    last_seen_up DATETIME(6) NULL,
    disabled TINYINT(1) NOT NULL DEFAULT 0,
    disabled_reason VARCHAR(255) NULL,
    forced_down TINYINT(1) NOT NULL DEFAULT 0,
    version INT NOT NULL DEFAULT 0,
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    deleted_at DATETIME(6) NULL,
    deleted INT NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_services0uuid (uuid),
    UNIQUE KEY uniq_services0host0binary0deleted (host, `binary`, deleted),
    UNIQUE KEY uniq_services0host0topic0deleted (host, topic, deleted)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- One row per hypervisor: its size and what is used of it.
CREATE TABLE compute_nodes (
    id INT NOT NULL AUTO_INCREMENT,
    uuid VARCHAR(36) NOT NULL,
    host VARCHAR(255) NULL,
    hypervisor_hostname VARCHAR(255) NULL,
    hypervisor_type VARCHAR(255) NOT NULL,
    hypervisor_version INT NOT NULL DEFAULT 0,
    cpu_info MEDIUMTEXT NULL,
    vcpus INT NOT NULL DEFAULT 0,
    memory_mb INT NOT NULL DEFAULT 0,
    local_gb INT NOT NULL DEFAULT 0,
    vcpus_used INT NOT NULL DEFAULT 0,
    memory_mb_used INT NOT NULL DEFAULT 0,
    local_gb_used INT NOT NULL DEFAULT 0,
    running_vms INT NOT NULL DEFAULT 0,
    cpu_allocation_ratio DOUBLE NULL,
    ram_allocation_ratio DOUBLE NULL,
    disk_allocation_ratio DOUBLE NULL,
    disabled TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    deleted_at DATETIME(6) NULL,
    deleted INT NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_compute_nodes0uuid (uuid),
    UNIQUE KEY uniq_compute_nodes0host0hypervisor_hostname0deleted
        (host, hypervisor_hostname, deleted)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Instances placed in this cell.  'flavor' is a JSON snapshot of the
-- flavor at boot time and 'metadata' a JSON object of the user's key/value
-- pairs.  'update_seq' grows with every change of the row, so that the top
-- view in the API database never takes an older update over a newer one.
CREATE TABLE instances (
    id INT NOT NULL AUTO_INCREMENT,
    uuid VARCHAR(36) NOT NULL,
    display_name VARCHAR(255) NULL,
    display_description TEXT NULL,
    project_id VARCHAR(255) NULL,
    user_id VARCHAR(255) NULL,
    hostname VARCHAR(255) NULL,
    host VARCHAR(255) NULL,
    node VARCHAR(255) NULL,
    launched_on MEDIUMTEXT NULL,
    reservation_id VARCHAR(255) NULL,
    launch_index INT NULL,
    flavor MEDIUMTEXT NULL,
    instance_type_id INT NULL,
    vcpus INT NULL,
    memory_mb INT NULL,
    root_gb INT NULL,
    ephemeral_gb INT NULL,
    image_ref VARCHAR(255) NULL,
    kernel_id VARCHAR(255) NULL,
    ramdisk_id VARCHAR(255) NULL,
    root_device_name VARCHAR(255) NULL,
    key_name VARCHAR(255) NULL,
    key_data MEDIUMTEXT NULL,
    user_data MEDIUMTEXT NULL,
    vm_state VARCHAR(255) NULL,
    task_state VARCHAR(255) NULL,
    power_state INT NULL,
    availability_zone VARCHAR(255) NULL,
    launched_at DATETIME(6) NULL,
    terminated_at DATETIME(6) NULL,
    config_drive VARCHAR(255) NULL,
    auto_disk_config TINYINT(1) NULL,
    locked TINYINT(1) NULL,
    locked_by ENUM('owner', 'admin') NULL,
    metadata TEXT NULL,
    access_ip_v4 VARCHAR(39) NULL,
    access_ip_v6 VARCHAR(39) NULL,
    progress INT NULL,
    update_seq BIGINT NOT NULL DEFAULT 0,
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    deleted_at DATETIME(6) NULL,
    deleted INT NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_instances0uuid (uuid),
    KEY instances_host_deleted_idx (host, deleted),
    KEY instances_project_id_deleted_idx (project_id, deleted),
    KEY instances_updated_at_idx (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The last failures of an instance, shown as its 'fault' by the API.
CREATE TABLE instance_faults (
    id INT NOT NULL AUTO_INCREMENT,
    instance_uuid VARCHAR(36) NOT NULL,
    code INT NOT NULL,
    message VARCHAR(255) NULL,
    details MEDIUMTEXT NULL,
    host VARCHAR(255) NULL,
    created_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    KEY instance_faults_instance_uuid_idx (instance_uuid),
    CONSTRAINT fk_instance_faults_instance_uuid
        FOREIGN KEY (instance_uuid) REFERENCES instances (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Server actions (os-instance-actions): one row per user request.
CREATE TABLE instance_actions (
    id INT NOT NULL AUTO_INCREMENT,
    action VARCHAR(255) NULL,
    instance_uuid VARCHAR(36) NOT NULL,
    request_id VARCHAR(255) NULL,
    user_id VARCHAR(255) NULL,
    project_id VARCHAR(255) NULL,
    start_time DATETIME(6) NULL,
    finish_time DATETIME(6) NULL,
    message VARCHAR(255) NULL,
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    KEY instance_actions_instance_uuid_idx (instance_uuid),
    KEY instance_actions_request_id_idx (request_id),
    CONSTRAINT fk_instance_actions_instance_uuid
        FOREIGN KEY (instance_uuid) REFERENCES instances (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The steps of an action (compute_build_and_run_instance, ...).
CREATE TABLE instance_actions_events (
    id INT NOT NULL AUTO_INCREMENT,
    action_id INT NOT NULL,
    event VARCHAR(255) NULL,
    result VARCHAR(255) NULL,
    traceback TEXT NULL,
    start_time DATETIME(6) NULL,
    finish_time DATETIME(6) NULL,
    host VARCHAR(255) NULL,
    details TEXT NULL,
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    KEY instance_actions_events_action_id_idx (action_id),
    CONSTRAINT fk_instance_actions_events_action_id
        FOREIGN KEY (action_id) REFERENCES instance_actions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
