-- 0005_images.sql: the image service of the API cell (a Glance v2
-- subset): image records, their custom properties, tags and members.
--
-- Times are DATETIME(6) in UTC.  Deleting an image deletes its row (and,
-- through the foreign keys, its properties, tags and members); the file
-- in the store goes with it.  'location' is the absolute path of the
-- image's file in the store once uploaded (NULL while queued): compute
-- reads it from there (one-machine clouds and shared storage).

CREATE TABLE images (
    id VARCHAR(36) NOT NULL,
    name VARCHAR(255) NULL,
    owner VARCHAR(255) NULL,
    status VARCHAR(30) NOT NULL,
    visibility VARCHAR(20) NOT NULL,
    protected TINYINT(1) NOT NULL DEFAULT 0,
    os_hidden TINYINT(1) NOT NULL DEFAULT 0,
    disk_format VARCHAR(20) NULL,
    container_format VARCHAR(20) NULL,
    size BIGINT NULL,
    virtual_size BIGINT NULL,
    checksum VARCHAR(32) NULL,
    os_hash_algo VARCHAR(64) NULL,
    os_hash_value VARCHAR(128) NULL,
    min_disk INT NOT NULL DEFAULT 0,
    min_ram INT NOT NULL DEFAULT 0,
    location VARCHAR(4096) NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    KEY images_owner_idx (owner),
    KEY images_created_at_idx (created_at, id),
    KEY images_name_idx (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Custom properties ("architecture", "kernel_id", ...), shown at the top
-- level of the image's JSON.
CREATE TABLE image_properties (
    image_id VARCHAR(36) NOT NULL,
    name VARCHAR(255) NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (image_id, name),
    CONSTRAINT image_properties_image_fk FOREIGN KEY (image_id)
        REFERENCES images (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE image_tags (
    image_id VARCHAR(36) NOT NULL,
    value VARCHAR(255) NOT NULL,
    PRIMARY KEY (image_id, value),
    CONSTRAINT image_tags_image_fk FOREIGN KEY (image_id)
        REFERENCES images (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Projects a "shared" image is shared with; 'status' is pending,
-- accepted or rejected, as in Glance.
CREATE TABLE image_members (
    image_id VARCHAR(36) NOT NULL,
    member VARCHAR(255) NOT NULL,
    status VARCHAR(20) NOT NULL DEFAULT 'pending',
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NULL,
    PRIMARY KEY (image_id, member),
    KEY image_members_member_idx (member),
    CONSTRAINT image_members_image_fk FOREIGN KEY (image_id)
        REFERENCES images (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
