//! Activity history (R12): every successful authenticated request to an account is recorded as
//! (principal, time, method, route), batched off the request path: handlers only hand a row to
//! a bounded channel, and a background task writes batches.

use atrium_core::ids::AccountId;
use atrium_core::model::{Activity, PrincipalRef};
use atrium_core::services::Services;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Rows waiting in memory at most; beyond that new rows are dropped (and logged) rather than
/// slowing requests down.
const CHANNEL: usize = 10_000;
const BATCH: usize = 500;

#[derive(Clone)]
pub struct ActivitySink(mpsc::Sender<Activity>);

pub type ActivityReceiver = mpsc::Receiver<Activity>;

pub fn channel() -> (ActivitySink, ActivityReceiver) {
    let (tx, rx) = mpsc::channel(CHANNEL);
    (ActivitySink(tx), rx)
}

/// The row of the current request, filled by the account extractor and sent by the middleware
/// once the response is known to be a success.
#[derive(Clone, Default)]
pub struct PendingActivity(Arc<Mutex<Option<Activity>>>);

impl PendingActivity {
    pub fn set(&self, account: AccountId, principal: PrincipalRef, at: atrium_core::time::Timestamp, method: &str, route: &str) {
        if let Ok(mut g) = self.0.lock() {
            *g = Some(Activity { account_id: account, principal, at, method: method.to_owned(), route: route.to_owned() });
        }
    }

    fn take(&self) -> Option<Activity> {
        self.0.lock().ok().and_then(|mut g| g.take())
    }
}

/// The page or API call a request visited, as the history shows it: the concrete path
/// (`/accounts/8c1…/users`), not the route template. Without the query string, which may hold
/// search text; capped so a crafted path cannot bloat the table.
pub fn visited(parts: &axum::http::request::Parts) -> String {
    const MAX: usize = 512;
    // Nested routers see their own part of the path; the original URI is the one visited.
    let p = parts.extensions.get::<axum::extract::OriginalUri>().map_or_else(|| parts.uri.path(), |o| o.0.path());
    if p.len() <= MAX {
        return p.to_owned();
    }
    let mut end = MAX;
    while !p.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &p[..end])
}

/// Middleware for the account routes.
pub async fn record(State(sink): State<ActivitySink>, mut req: Request, next: Next) -> Response {
    let pending = PendingActivity::default();
    req.extensions_mut().insert(pending.clone());
    let res = next.run(req).await;
    if res.status().is_success()
        && let Some(a) = pending.take()
        && sink.0.try_send(a).is_err()
    {
        tracing::warn!("activity history queue is full; a row was dropped");
    }
    res
}

/// Writes queued rows in batches (every second or every 500 rows), and purges rows older than
/// 30 days once an hour. When `flush` fires (at shutdown, once no request can add a row) it
/// writes every row still queued and returns.
pub async fn run_writer(services: Services, mut rx: ActivityReceiver, mut flush_now: tokio::sync::oneshot::Receiver<()>) {
    let mut buf: Vec<Activity> = Vec::with_capacity(BATCH);
    let mut flush = tokio::time::interval(Duration::from_secs(1));
    let mut purge = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            row = rx.recv() => match row {
                Some(a) => {
                    buf.push(a);
                    if buf.len() >= BATCH {
                        write(&services, &mut buf).await;
                    }
                }
                None => {
                    write(&services, &mut buf).await;
                    return;
                }
            },
            _ = flush.tick() => write(&services, &mut buf).await,
            // Fired, or its sender dropped: either way the server is stopping.
            _ = &mut flush_now => {
                rx.close();
                while let Some(a) = rx.recv().await {
                    buf.push(a);
                    if buf.len() >= BATCH {
                        write(&services, &mut buf).await;
                    }
                }
                write(&services, &mut buf).await;
                return;
            }
            _ = purge.tick() => {
                if let Err(e) = services.purge_activity().await {
                    tracing::warn!(error = %e, "purging activity history failed");
                }
            }
        }
    }
}

async fn write(services: &Services, buf: &mut Vec<Activity>) {
    if buf.is_empty() {
        return;
    }
    if let Err(e) = services.record_activity(buf).await {
        tracing::warn!(error = %e, rows = buf.len(), "writing activity history failed");
    }
    buf.clear();
}
