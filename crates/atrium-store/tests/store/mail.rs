//! The mail outbox.

use super::*;

conformance!(
    concurrent_mail_claims_never_share_a_mail,
    mail_leases_expire_and_finished_mail_loses_its_body,
    outbox_stats_count_waiting_mail_and_its_age,
    mail_claims_take_at_most_their_limit,
    cancelled_mail_is_never_claimed,
);

fn mail(i: usize, at: i64) -> atrium_core::model::Mail {
    use atrium_core::model::{Mail, MailStatus};
    Mail {
        id: atrium_core::ids::MailId::from_uuid(uuid::Uuid::new_v4()),
        to: atrium_core::domain::Email::parse(&format!("g{i}@example.com"), "to").unwrap(),
        subject: format!("Invitation {i}"),
        body_text: "link".into(),
        body_html: "<a>link</a>".into(),
        status: MailStatus::Queued,
        attempts: 0,
        next_attempt_at: Timestamp::from_millis(at),
        locked_until: None,
        last_error: None,
        created_at: Timestamp::from_millis(at),
        sent_at: None,
        invitation_id: None,
        account_id: None,
        tenant_id: None,
    }
}

/// Several workers (nodes) claiming at once never get the same mail, and together get all.
async fn concurrent_mail_claims_never_share_a_mail(store: Arc<dyn Store>) {
    let mut tx = store.begin().await.unwrap();
    for i in 0..60 {
        tx.insert_mail(&mail(i, T0)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let now = Timestamp::from_millis(T0);
    let lease = now.plus_seconds(300);
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let mut tx = store.begin().await.unwrap();
                    let got = tx.claim_mail(now, lease, 4).await.unwrap();
                    tx.commit().await.unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|m| {
                        assert_eq!(m.attempts, 1);
                        m.id
                    }));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let unique: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 60, "some mail was claimed twice or not at all");
    assert_eq!(unique.len(), 60);
}

async fn mail_leases_expire_and_finished_mail_loses_its_body(store: Arc<dyn Store>) {
    use atrium_core::model::MailStatus;
    let (a, b) = (mail(1, T0), mail(2, T0 + 60_000));
    let mut tx = store.begin().await.unwrap();
    tx.insert_mail(&a).await.unwrap();
    tx.insert_mail(&b).await.unwrap();
    let now = Timestamp::from_millis(T0);
    // Only what is due is claimed.
    let got = tx.claim_mail(now, now.plus_seconds(300), 10).await.unwrap();
    assert_eq!(got.iter().map(|m| m.id).collect::<Vec<_>>(), vec![a.id]);
    assert_eq!(got[0].status, MailStatus::Sending);
    // A claimed mail is not claimed again while its lease runs...
    assert!(tx.claim_mail(now.plus_seconds(100), now.plus_seconds(400), 10).await.unwrap().iter().all(|m| m.id != a.id));
    // ...but is once the lease has run out (its worker died), counting a second attempt.
    let again = tx.claim_mail(now.plus_seconds(301), now.plus_seconds(601), 10).await.unwrap();
    let again_a = again.iter().find(|m| m.id == a.id).unwrap();
    assert_eq!(again_a.attempts, 2);
    // A failure goes back to the queue for later, keeping the body.
    assert!(tx.finish_mail(b.id, MailStatus::Queued, now, now.plus_seconds(900), Some("421 try later")).await.unwrap());
    let b2 = tx.get_mail(b.id).await.unwrap().unwrap();
    assert_eq!((b2.status, b2.last_error.as_deref(), b2.body_text.as_str()), (MailStatus::Queued, Some("421 try later"), "link"));
    // Sent: the body (which held a link) is cleared; finishing twice does nothing.
    assert!(tx.finish_mail(a.id, MailStatus::Sent, now, now, None).await.unwrap());
    assert!(!tx.finish_mail(a.id, MailStatus::Sent, now, now, None).await.unwrap());
    let a2 = tx.get_mail(a.id).await.unwrap().unwrap();
    assert_eq!((a2.status, a2.body_text.as_str(), a2.body_html.as_str(), a2.sent_at), (MailStatus::Sent, "", "", Some(now)));
    assert_eq!(tx.list_mail(None, Some(MailStatus::Sent), 10).await.unwrap().len(), 1);
    assert_eq!(tx.list_mail(None, None, 10).await.unwrap().len(), 2);
    tx.commit().await.unwrap();
}

/// The outbox's depth for metrics: queued and sending mail count, sent and dead do not; the
/// oldest waiting mail's creation time gives its age.
async fn outbox_stats_count_waiting_mail_and_its_age(store: Arc<dyn Store>) {
    use atrium_core::model::MailStatus;
    let stats = |store: Arc<dyn Store>| async move { store.begin_read().await.unwrap().outbox_stats().await.unwrap() };
    assert_eq!(stats(store.clone()).await, atrium_core::ports::OutboxStats { pending: 0, oldest_created_at: None });
    let mut tx = store.begin().await.unwrap();
    let mails: Vec<_> = (0..4).map(|i| mail(i, T0 + 1000 * i as i64)).collect();
    for m in &mails {
        tx.insert_mail(m).await.unwrap();
    }
    tx.commit().await.unwrap();
    let now = Timestamp::from_millis(T0 + 10_000);
    let mut tx = store.begin().await.unwrap();
    // The two oldest are claimed, then one is sent and one dead: neither waits any more.
    let claimed = tx.claim_mail(now, now.plus_seconds(300), 2).await.unwrap();
    assert_eq!(claimed.len(), 2);
    tx.finish_mail(mails[0].id, MailStatus::Sent, now, now, None).await.unwrap();
    tx.finish_mail(mails[1].id, MailStatus::Dead, now, now, Some("refused")).await.unwrap();
    // The next one is being sent: it still waits.
    assert_eq!(tx.claim_mail(now, now.plus_seconds(300), 1).await.unwrap().len(), 1);
    tx.commit().await.unwrap();
    let s = stats(store.clone()).await;
    assert_eq!(s.pending, 2, "one sending, one queued");
    assert_eq!(s.oldest_created_at, Some(Timestamp::from_millis(T0 + 2000)));
}

/// A claim takes at most `limit` mails, oldest due first (PostgreSQL took more: issue 17).
async fn mail_claims_take_at_most_their_limit(store: Arc<dyn Store>) {
    let mut tx = store.begin().await.unwrap();
    let mails: Vec<_> = (0..5).map(|i| mail(i, T0 + 1000 * i as i64)).collect();
    for m in &mails {
        tx.insert_mail(m).await.unwrap();
    }
    tx.commit().await.unwrap();
    let now = Timestamp::from_millis(T0 + 10_000);
    for (limit, first) in [(2, 0), (1, 2)] {
        let mut tx = store.begin().await.unwrap();
        let got = tx.claim_mail(now, now.plus_seconds(300), limit).await.unwrap();
        tx.commit().await.unwrap();
        let ids: Vec<_> = got.iter().map(|m| m.id).collect();
        let want: Vec<_> = mails[first..first + limit as usize].iter().map(|m| m.id).collect();
        assert_eq!(ids.len(), want.len(), "a claim of {limit} took {}", ids.len());
        assert!(want.iter().all(|w| ids.contains(w)));
    }
}

/// Cancelling touches only queued mail of the named invitation (a claimed one may be on the
/// wire), clears its body, and a cancelled mail is never claimed for delivery.
async fn cancelled_mail_is_never_claimed(store: Arc<dyn Store>) {
    use atrium_core::ids::InvitationId;
    use atrium_core::model::MailStatus;
    use atrium_core::ports::store::MailOf;
    let (inv, other) = (InvitationId::from_uuid(uuid::Uuid::new_v4()), InvitationId::from_uuid(uuid::Uuid::new_v4()));
    let now = Timestamp::from_millis(T0);
    let mut tx = store.begin().await.unwrap();
    let (mut a, mut b, mut c) = (mail(1, T0), mail(2, T0), mail(3, T0));
    (a.invitation_id, b.invitation_id, c.invitation_id) = (Some(inv), Some(other), Some(inv));
    c.status = MailStatus::Sending;
    c.locked_until = Some(now.plus_seconds(300));
    for m in [&a, &b, &c] {
        tx.insert_mail(m).await.unwrap();
    }
    assert_eq!(tx.cancel_mail(MailOf::Invitation(inv), now, "Cancelled: revoked").await.unwrap(), 1);
    let got = tx.get_mail(a.id).await.unwrap().unwrap();
    assert_eq!((got.status, got.last_error.as_deref(), got.body_text.as_str(), got.body_html.as_str()), (MailStatus::Cancelled, Some("Cancelled: revoked"), "", ""));
    assert_eq!(tx.get_mail(c.id).await.unwrap().unwrap().status, MailStatus::Sending);
    let claimed = tx.claim_mail(now.plus_seconds(1), now.plus_seconds(60), 10).await.unwrap();
    assert_eq!(claimed.iter().map(|m| m.id).collect::<Vec<_>>(), vec![b.id]);
    tx.commit().await.unwrap();
}
