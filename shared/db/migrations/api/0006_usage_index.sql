-- 0006_usage_index.sql: counting a project's usage without reading rows.
--
-- Every boot checks the project's quotas by summing the vcpus and memory
-- of its live instances in the top view; with this index the sum reads
-- the index alone instead of one row per instance.
CREATE INDEX instances_project_usage_idx
    ON instances (project_id, deleted, vcpus, memory_mb);
