//! The sign-in log's side of the server: each request's address, user agent and correlation id
//! (for the entries the services log while serving it), and the queue that writes entries in
//! batches off the request path, flushed at shutdown like the activity history.

use atrium_core::services::Services;
use atrium_core::services::sign_in_log::CLIENT_APP_FROM_REQUEST;
use atrium_core::sign_ins::{SignInEntry, SignInSink};
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use tokio::sync::mpsc;

/// Entries waiting in memory at most; beyond that new ones are dropped (and logged) rather than
/// slowing sign-ins down.
const CHANNEL: usize = 10_000;
const BATCH: usize = 500;

/// What the sign-in log records about the request an attempt came in.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    ip_address: Option<String>,
    user_agent: Option<String>,
    correlation_id: Option<String>,
    /// A call of the REST API (`/api/...`) rather than a page of the console.
    api: bool,
}

tokio::task_local! {
    static REQUEST: RequestInfo;
}

/// Middleware: makes the request's details available to the entries logged while serving it.
/// The address is the connection's peer; proxy headers are not trusted.
pub async fn context(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let text = |name: &str, max: usize| {
        headers.get(name).and_then(|v| v.to_str().ok()).map(|v| v.chars().filter(|c| !c.is_control()).take(max).collect::<String>()).filter(|v| !v.is_empty())
    };
    let sane = |v: String| (v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')).then_some(v);
    let info = RequestInfo {
        ip_address: req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()),
        user_agent: text("user-agent", 512),
        correlation_id: text("client-request-id", 64).and_then(sane).or_else(|| text("x-request-id", 64).and_then(sane)),
        api: req.uri().path().starts_with("/api/"),
    };
    REQUEST.scope(info, next.run(req)).await
}

pub type SignInReceiver = mpsc::Receiver<SignInEntry>;

/// The services' [`SignInSink`]: completes an entry from the current request and queues it.
pub struct QueueSink(mpsc::Sender<SignInEntry>);

pub fn channel() -> (QueueSink, SignInReceiver) {
    let (tx, rx) = mpsc::channel(CHANNEL);
    (QueueSink(tx), rx)
}

impl SignInSink for QueueSink {
    fn record(&self, mut e: SignInEntry) {
        let _ = REQUEST.try_with(|r| {
            e.ip_address = e.ip_address.take().or_else(|| r.ip_address.clone());
            e.user_agent = e.user_agent.take().or_else(|| r.user_agent.clone());
            e.correlation_id = e.correlation_id.take().or_else(|| r.correlation_id.clone());
            if e.client_app_used == CLIENT_APP_FROM_REQUEST {
                e.client_app_used = if r.api { "Other clients" } else { "Browser" }.to_owned();
            }
        });
        if e.client_app_used == CLIENT_APP_FROM_REQUEST {
            e.client_app_used = "Other clients".to_owned();
        }
        if self.0.try_send(e).is_err() {
            tracing::warn!("sign-in log queue is full; an entry was dropped");
        }
    }
}

/// Writes queued entries: whatever has arrived is written at once as one batch (so a storm of
/// sign-ins becomes few large transactions, and a single one is visible within moments). When
/// `flush_now` fires (at shutdown, once no request can add one) it writes the rest and returns.
pub async fn run_writer(services: Services, mut rx: SignInReceiver, mut flush_now: tokio::sync::oneshot::Receiver<()>) {
    let mut buf: Vec<SignInEntry> = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            first = rx.recv() => match first {
                Some(e) => {
                    buf.push(e);
                    while buf.len() < BATCH {
                        match rx.try_recv() {
                            Ok(e) => buf.push(e),
                            Err(_) => break,
                        }
                    }
                    write(&services, &mut buf).await;
                }
                None => return,
            },
            // Fired, or its sender dropped: either way the server is stopping.
            _ = &mut flush_now => {
                rx.close();
                while let Some(e) = rx.recv().await {
                    buf.push(e);
                    if buf.len() >= BATCH {
                        write(&services, &mut buf).await;
                    }
                }
                write(&services, &mut buf).await;
                return;
            }
        }
    }
}

async fn write(services: &Services, buf: &mut Vec<SignInEntry>) {
    if buf.is_empty() {
        return;
    }
    if let Err(e) = services.record_sign_ins(buf).await {
        tracing::warn!(error = %e, entries = buf.len(), "writing sign-in logs failed");
    }
    buf.clear();
}
