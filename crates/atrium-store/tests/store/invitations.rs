//! Invitations.

use super::*;

conformance!(invitations_are_single_use);

async fn invitations_are_single_use(store: Arc<dyn Store>) {
    use atrium_core::model::{Invitation, InvitationStatus};
    let t = tenant("contoso");
    let guest = user(&t, "guest", "Guest");
    let inv = Invitation {
        id: atrium_core::ids::InvitationId::from_uuid(uuid::Uuid::new_v4()),
        tenant_id: t.id,
        account_id: None,
        user_id: guest.id,
        email: atrium_core::domain::Email::parse("Guest@Example.com", "email").unwrap(),
        token_hash: [7; 32],
        status: InvitationStatus::Pending,
        redirect_url: None,
        invited_by: None,
        resend_count: 0,
        created_at: ts(),
        updated_at: ts(),
        expires_at: None,
        accepted_at: None,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&guest).await.unwrap();
    tx.insert_invitation(&inv).await.unwrap();
    tx.commit().await.unwrap();
    // One pending invitation per address and tenant, whatever the case.
    let dup = Invitation { id: atrium_core::ids::InvitationId::from_uuid(uuid::Uuid::new_v4()), token_hash: [8; 32], email: atrium_core::domain::Email::parse("guest@example.com", "email").unwrap(), ..inv.clone() };
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.insert_invitation(&dup).await, Err(StoreError::Conflict)));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.find_invitation_by_token_hash(&[7; 32]).await.unwrap().unwrap(), inv);
    assert_eq!(tx.pending_invitation_of_user(guest.id).await.unwrap().unwrap().id, inv.id);
    // A stale hash (the link was resent) cannot accept; the current one can, once.
    assert!(!tx.accept_invitation(inv.id, &[9; 32], ts()).await.unwrap());
    assert!(tx.accept_invitation(inv.id, &[7; 32], ts()).await.unwrap());
    assert!(!tx.accept_invitation(inv.id, &[7; 32], ts()).await.unwrap());
    assert!(tx.pending_invitation_of_user(guest.id).await.unwrap().is_none());
    assert_eq!(tx.get_invitation(inv.id).await.unwrap().unwrap().status, InvitationStatus::Accepted);
    tx.commit().await.unwrap();
}
