-- 0002_identity.sql: the built-in identity service, a subset of Keystone v3:
-- projects, users, roles and the roles users hold on projects.
--
-- Everything lives in Keystone's domain "Default" (id 'default'); the
-- domain_id columns keep room for more.  Ids are 32 lower-case hex digits,
-- as Keystone makes them.  Names are unique within the domain and compared
-- by the column collation (case-insensitive), as Keystone on MySQL does.
-- Times are DATETIME(6) in UTC.

CREATE TABLE projects (
    id VARCHAR(64) NOT NULL,
    domain_id VARCHAR(64) NOT NULL DEFAULT 'default',
    name VARCHAR(64) NOT NULL,
    description TEXT NULL,
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_projects0domain_id0name (domain_id, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- 'password_hash' is an identity-password.h string, NULL for a user that
-- cannot log in with a password.  'revocation_counter' is copied into
-- every token issued to the user; bumping it (disable, password change,
-- role removal) makes the user's earlier tokens invalid.
CREATE TABLE users (
    id VARCHAR(64) NOT NULL,
    domain_id VARCHAR(64) NOT NULL DEFAULT 'default',
    name VARCHAR(255) NOT NULL,
    password_hash VARCHAR(255) NULL,
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    default_project_id VARCHAR(64) NULL,
    revocation_counter BIGINT NOT NULL DEFAULT 0,
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_users0domain_id0name (domain_id, name),
    KEY users_default_project_id_idx (default_project_id),
    CONSTRAINT users_default_project_id_fkey
        FOREIGN KEY (default_project_id) REFERENCES projects (id)
        ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE roles (
    id VARCHAR(64) NOT NULL,
    name VARCHAR(255) NOT NULL,
    created_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_roles0name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- A user holds a role on a project.  Deleting any of the three deletes
-- the assignment.
CREATE TABLE role_assignments (
    user_id VARCHAR(64) NOT NULL,
    project_id VARCHAR(64) NOT NULL,
    role_id VARCHAR(64) NOT NULL,
    created_at DATETIME(6) NULL,
    PRIMARY KEY (user_id, project_id, role_id),
    KEY role_assignments_project_id_idx (project_id),
    KEY role_assignments_role_id_idx (role_id),
    CONSTRAINT role_assignments_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT role_assignments_project_id_fkey
        FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
    CONSTRAINT role_assignments_role_id_fkey
        FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The roles policy knows (api-cell/policy.c): admin implies member,
-- member implies reader.
INSERT INTO roles (id, name, created_at) VALUES
    (REPLACE(UUID(), '-', ''), 'admin', UTC_TIMESTAMP(6)),
    (REPLACE(UUID(), '-', ''), 'member', UTC_TIMESTAMP(6)),
    (REPLACE(UUID(), '-', ''), 'reader', UTC_TIMESTAMP(6));
