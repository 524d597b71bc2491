//! App role assignments (Graph application permissions granted to applications): one per
//! (application, resource, role) even under concurrent grants, listed oldest first, scoped to
//! the tenant, gone with the app.

use super::*;
use atrium_core::domain::DisplayName;
use atrium_core::ids::{AppRoleAssignmentId, ApplicationId, ClientId, ServicePrincipalId};
use atrium_core::model::{AppRoleAssignment, Application, Tenant};

conformance!(app_role_assignments_are_unique_and_go_with_their_app);

fn app(t: &Tenant, name: &str) -> Application {
    Application {
        id: ApplicationId::random(&rng()),
        client_id: ClientId::random(&rng()),
        service_principal_id: ServicePrincipalId::random(&rng()),
        tenant_id: t.id,
        display_name: DisplayName::parse(name, "x").unwrap(),
        reply_urls: vec![],
        app_id_uri: None,
        public_client: false,
        created_at: ts(),
        updated_at: ts(),
    }
}

fn assignment(a: &Application, role: uuid::Uuid, offset: i64) -> AppRoleAssignment {
    AppRoleAssignment {
        id: AppRoleAssignmentId::random(&rng()),
        tenant_id: a.tenant_id,
        application_id: a.id,
        resource_app_id: atrium_core::graph::GRAPH_APP_ID,
        app_role_id: role,
        created_at: ts().plus_millis(offset),
    }
}

async fn app_role_assignments_are_unique_and_go_with_their_app(store: Arc<dyn Store>) {
    let (t, other) = (tenant("a"), tenant("b"));
    let (a, b) = (app(&t, "Sync"), app(&t, "Other"));
    let (read, write) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_tenant(&other).await.unwrap();
    tx.insert_application(&a).await.unwrap();
    tx.insert_application(&b).await.unwrap();
    let second = assignment(&a, write, 5);
    assert!(tx.insert_app_role_assignment(&second).await.unwrap());
    let first = assignment(&a, read, 0);
    assert!(tx.insert_app_role_assignment(&first).await.unwrap());
    assert!(tx.insert_app_role_assignment(&assignment(&b, read, 0)).await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.list_app_role_assignments(t.id, a.id).await.unwrap(), vec![first.clone(), second.clone()], "oldest first");
    // Another tenant's id finds nothing, and deletes nothing.
    assert!(tx.list_app_role_assignments(other.id, a.id).await.unwrap().is_empty());
    assert!(!tx.delete_app_role_assignment(other.id, a.id, first.id).await.unwrap());
    // One per (application, resource, role): granting it again adds nothing.
    assert!(!tx.insert_app_role_assignment(&assignment(&a, read, 9)).await.unwrap());
    assert_eq!(tx.list_app_role_assignments(t.id, a.id).await.unwrap(), vec![first.clone(), second.clone()]);
    drop(tx);
    // The application must exist in that tenant.
    let mut tx = store.begin().await.unwrap();
    let mut stray = assignment(&a, uuid::Uuid::from_u128(3), 0);
    stray.tenant_id = other.id;
    assert!(matches!(tx.insert_app_role_assignment(&stray).await, Err(StoreError::MissingReference)));
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_app_role_assignment(t.id, a.id, first.id).await.unwrap());
    assert!(!tx.delete_app_role_assignment(t.id, a.id, first.id).await.unwrap());
    assert_eq!(tx.list_app_role_assignments(t.id, a.id).await.unwrap(), vec![second]);
    // Deleting the application deletes its grants; another app's stay.
    tx.delete_application(t.id, a.id).await.unwrap();
    assert!(tx.list_app_role_assignments(t.id, a.id).await.unwrap().is_empty());
    assert_eq!(tx.list_app_role_assignments(t.id, b.id).await.unwrap().len(), 1);
    tx.commit().await.unwrap();
}
