-- 0002_image_and_claims.sql: what the object model and the claims need
-- beyond the initial schema.
--
-- instances.image: the IMAGE the instance boots from (shared/instance.h),
-- as JSON text.  instances.swap: the flavor's swap in MiB, kept in a
-- column like vcpus, memory_mb, root_gb and ephemeral_gb so that a compute
-- node's usage is one SQL sum (child-cell/cell-db-node.h).
ALTER TABLE instances
    ADD COLUMN image MEDIUMTEXT NULL AFTER image_ref,
    ADD COLUMN swap INT NULL AFTER ephemeral_gb,
    ADD KEY instances_host_node_deleted_idx (host, node, deleted);

-- compute_nodes: the amounts kept back for the host itself (Nova's
-- reserved_host_cpus, reserved_host_memory_mb, reserved_host_disk_mb),
-- which claims subtract from the capacity, and the number of instances
-- the usage counts.
ALTER TABLE compute_nodes
    ADD COLUMN reserved_host_cpus INT NOT NULL DEFAULT 0,
    ADD COLUMN reserved_host_memory_mb INT NOT NULL DEFAULT 0,
    ADD COLUMN reserved_host_disk_mb INT NOT NULL DEFAULT 0,
    ADD COLUMN num_instances INT NOT NULL DEFAULT 0;
