-- Subscriptions (seed 003): owned by a personal account, trusting exactly one directory, with
-- co-administrators from that directory, and the "use existing directory" requests.
-- Kept in lockstep with ../sqlite/0005_subscriptions.sql.

-- A directory that subscriptions trust cannot be deleted (no ON DELETE): change theirs first.
CREATE TABLE subscriptions (
    id                   UUID PRIMARY KEY NOT NULL,
    name                 TEXT NOT NULL,
    owner_tenant_id      UUID NOT NULL,
    owner_user_id        UUID NOT NULL,
    state                TEXT NOT NULL CHECK (state IN ('active', 'disabled')),
    directory_tenant_id  UUID NOT NULL REFERENCES tenants (id),
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    FOREIGN KEY (owner_tenant_id, owner_user_id) REFERENCES users (tenant_id, id),
    CONSTRAINT subscriptions_id_directory_unique UNIQUE (id, directory_tenant_id)
);
CREATE INDEX subscriptions_owner ON subscriptions (owner_user_id);
CREATE INDEX subscriptions_directory ON subscriptions (directory_tenant_id);

-- Steps 1-2: asked by the owner, consented by a global administrator of the directory.
CREATE TABLE subscription_directory_requests (
    id               UUID PRIMARY KEY NOT NULL,
    subscription_id  UUID NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    tenant_id        UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    code_hash        BYTEA NOT NULL UNIQUE,
    requested_by     UUID NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    consented_by     UUID,
    consented_at     BIGINT
);
CREATE INDEX subscription_directory_requests_subscription ON subscription_directory_requests (subscription_id, tenant_id);

-- A co-administrator is a user of the subscription's current directory: the composite keys
-- refuse anyone else, and refuse a directory change while the old co-administrators remain.
CREATE TABLE subscription_coadmins (
    subscription_id  UUID NOT NULL,
    tenant_id        UUID NOT NULL,
    user_id          UUID NOT NULL,
    added_by         UUID NOT NULL,
    added_at         BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, user_id),
    FOREIGN KEY (subscription_id, tenant_id) REFERENCES subscriptions (id, directory_tenant_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX subscription_coadmins_user ON subscription_coadmins (user_id);
