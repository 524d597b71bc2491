-- Issue 13 (ARM). Kept in lockstep with ../postgres/0016_app_coadmins.sql.
--
-- Applications as co-administrators of a subscription: what a service principal sees through
-- ARM (`GET /subscriptions`, `az login --service-principal`). In Azure a service principal sees
-- the subscriptions it holds a role on; seed 003's access model is the co-administrator, so an
-- owner makes an app of the subscription's directory one. As with users, the composite keys
-- refuse an app of another directory and refuse a directory change while they remain.
CREATE TABLE subscription_app_coadmins (
    subscription_id  BLOB NOT NULL,
    tenant_id        BLOB NOT NULL,
    application_id   BLOB NOT NULL,
    added_by         BLOB NOT NULL,
    added_at         BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, application_id),
    FOREIGN KEY (subscription_id, tenant_id) REFERENCES subscriptions (id, directory_tenant_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX subscription_app_coadmins_app ON subscription_app_coadmins (application_id);
