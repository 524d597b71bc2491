//! Prometheus metrics: a small registry of atomics (no metrics crate), the request middleware
//! that feeds it, and `GET /metrics` in the text format on its own listener (`metrics_listen`).
//!
//! Requests are labelled by the route template (axum's `MatchedPath`), never the raw path: ids
//! in paths would make every request a new series. Outbox and pool figures are read from the
//! store when scraped.

use atrium_core::services::Services;
use atrium_core::services::identity::{OAuthError, TokenGrant};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Upper bounds of the latency buckets, in seconds (`+Inf` is implied).
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

const GRANTS: [&str; 4] = ["client_credentials", "authorization_code", "refresh_token", "password"];
/// Where a sign-in can fail: REST, console form, the authorize page, the token endpoint.
const SIGN_IN: [&str; 4] = ["api", "console", "authorize", "token"];

/// One (method, route) pair's figures.
struct RouteSeries {
    method: String,
    route: String,
    /// (status code, requests); a route answers with a handful of codes.
    statuses: Mutex<Vec<(u16, u64)>>,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// The throttling scopes, as `atrium_core::services::throttle::ThrottleScope` names them.
const THROTTLE_SCOPES: [&str; 5] = ["client_auth_client", "client_auth_address", "sign_in_address", "scim_writes_token", "graph_writes_token"];

/// The process's counters, shared by every request (in `AppState`).
#[derive(Default)]
pub struct Metrics {
    routes: RwLock<HashMap<String, Arc<RouteSeries>>>,
    tokens: [AtomicU64; GRANTS.len()],
    sign_in_failures: [AtomicU64; SIGN_IN.len()],
    throttled: [AtomicU64; THROTTLE_SCOPES.len()],
    draining: AtomicBool,
}

/// A grant type, as counted (no copy of the request's secrets).
#[derive(Debug, Clone, Copy)]
pub struct Grant(usize);

pub fn grant_of(g: &TokenGrant) -> Grant {
    Grant(match g {
        TokenGrant::ClientCredentials { .. } => 0,
        TokenGrant::AuthorizationCode { .. } => 1,
        TokenGrant::RefreshToken { .. } => 2,
        TokenGrant::Password { .. } => 3,
    })
}

impl Metrics {
    /// A token was issued for this grant.
    pub fn token_issued(&self, grant: Option<Grant>) {
        if let Some(c) = grant.and_then(|g| self.tokens.get(g.0)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The token endpoint refused a request: counted as a sign-in failure when it was wrong
    /// credentials (a user's password, AADSTS50126, or a client's secret, `invalid_client`).
    pub fn token_refused(&self, e: &OAuthError) {
        if e.code == 50126 || e.error == "invalid_client" {
            self.sign_in_failures[3].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A request was refused by throttling (or by the lockout of unknown names), by scope.
    pub fn throttled(&self, scope: &str) {
        if let Some(i) = THROTTLE_SCOPES.iter().position(|s| *s == scope) {
            self.throttled[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Shutdown has begun: `/readyz` answers 503 from now on.
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    fn observe(&self, method: &Method, route: Option<&str>, status: StatusCode, elapsed: Duration) {
        // Unknown paths share one series: a scanner must not create thousands.
        let route = route.unwrap_or("unmatched");
        if method == Method::POST && matches!(status.as_u16(), 401 | 403) {
            let place = match route {
                "/api/v1/sign-in" => Some(0),
                "/sign-in" => Some(1),
                "/{tenant}/oauth2/v2.0/authorize" => Some(2),
                _ => None,
            };
            if let Some(i) = place {
                self.sign_in_failures[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        let key = format!("{method} {route}");
        let found = self.routes.read().ok().and_then(|m| m.get(&key).cloned());
        let series = match found {
            Some(s) => s,
            None => {
                let Ok(mut map) = self.routes.write() else { return };
                map.entry(key)
                    .or_insert_with(|| {
                        Arc::new(RouteSeries {
                            method: method.as_str().to_owned(),
                            route: route.to_owned(),
                            statuses: Mutex::new(Vec::new()),
                            buckets: Default::default(),
                            count: AtomicU64::new(0),
                            sum_micros: AtomicU64::new(0),
                        })
                    })
                    .clone()
            }
        };
        if let Ok(mut st) = series.statuses.lock() {
            match st.iter_mut().find(|(c, _)| *c == status.as_u16()) {
                Some((_, n)) => *n += 1,
                None => st.push((status.as_u16(), 1)),
            }
        }
        let secs = elapsed.as_secs_f64();
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                series.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        series.count.fetch_add(1, Ordering::Relaxed);
        series.sum_micros.fetch_add(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The counters in Prometheus text format (without the store's figures).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let mut routes: Vec<Arc<RouteSeries>> = self.routes.read().map(|m| m.values().cloned().collect()).unwrap_or_default();
        routes.sort_by(|a, b| (&a.route, &a.method).cmp(&(&b.route, &b.method)));

        out.push_str("# HELP atrium_http_requests_total HTTP requests answered, by method, route template and status code.\n");
        out.push_str("# TYPE atrium_http_requests_total counter\n");
        for s in &routes {
            let mut statuses = s.statuses.lock().map(|v| v.clone()).unwrap_or_default();
            statuses.sort_unstable();
            for (code, n) in statuses {
                let _ = writeln!(out, "atrium_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{code}\"}} {n}", s.method, esc(&s.route));
            }
        }
        out.push_str("# HELP atrium_http_request_duration_seconds Time to answer (until the response head), by method and route template.\n");
        out.push_str("# TYPE atrium_http_request_duration_seconds histogram\n");
        for s in &routes {
            let labels = format!("method=\"{}\",route=\"{}\"", s.method, esc(&s.route));
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(out, "atrium_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}", s.buckets[i].load(Ordering::Relaxed));
            }
            let count = s.count.load(Ordering::Relaxed);
            let _ = writeln!(out, "atrium_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}");
            let _ = writeln!(out, "atrium_http_request_duration_seconds_sum{{{labels}}} {}", s.sum_micros.load(Ordering::Relaxed) as f64 / 1e6);
            let _ = writeln!(out, "atrium_http_request_duration_seconds_count{{{labels}}} {count}");
        }
        out.push_str("# HELP atrium_tokens_issued_total Tokens issued by the token endpoints, by grant type.\n");
        out.push_str("# TYPE atrium_tokens_issued_total counter\n");
        for (i, g) in GRANTS.iter().enumerate() {
            let _ = writeln!(out, "atrium_tokens_issued_total{{grant_type=\"{g}\"}} {}", self.tokens[i].load(Ordering::Relaxed));
        }
        out.push_str("# HELP atrium_sign_in_failures_total Sign-ins refused for wrong credentials, a locked or a disabled account, by where they were tried.\n");
        out.push_str("# TYPE atrium_sign_in_failures_total counter\n");
        for (i, p) in SIGN_IN.iter().enumerate() {
            let _ = writeln!(out, "atrium_sign_in_failures_total{{endpoint=\"{p}\"}} {}", self.sign_in_failures[i].load(Ordering::Relaxed));
        }
        out.push_str("# HELP atrium_throttled_requests_total Requests refused with 429 by throttling (counted in the database, shared by all nodes), by scope.\n");
        out.push_str("# TYPE atrium_throttled_requests_total counter\n");
        for (i, s) in THROTTLE_SCOPES.iter().enumerate() {
            let _ = writeln!(out, "atrium_throttled_requests_total{{scope=\"{s}\"}} {}", self.throttled[i].load(Ordering::Relaxed));
        }
        out.push_str("# HELP atrium_draining 1 while the server shuts down (readiness fails), else 0.\n");
        out.push_str("# TYPE atrium_draining gauge\n");
        let _ = writeln!(out, "atrium_draining {}", u8::from(self.is_draining()));
        out
    }
}

/// Label values are quoted; a route template has no quote or backslash, but be safe.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Middleware: counts every request by route template and status, and times it. Outermost,
/// so the time includes the other layers and the status is the one the client sees.
pub async fn track(State(m): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let res = next.run(req).await;
    // Every 429 renderer (REST, identity, SCIM) marks the response with what refused it.
    if let Some(t) = res.extensions().get::<atrium_core::Throttled>() {
        m.throttled(t.scope);
    }
    m.observe(&method, route.as_deref(), res.status(), start.elapsed());
    res
}

/// The store's figures: outbox depth and age, connection pools.
async fn render_store(services: &Services, out: &mut String) {
    let now = services.clock().now();
    let stats = async {
        let mut tx = services.store().begin_read().await?;
        tx.outbox_stats().await
    }
    .await;
    out.push_str("# HELP atrium_up 1 when the database answered this scrape, else 0.\n# TYPE atrium_up gauge\n");
    let _ = writeln!(out, "atrium_up {}", u8::from(stats.is_ok()));
    if let Ok(s) = stats {
        out.push_str("# HELP atrium_outbox_pending Mails waiting to be delivered (queued or being sent).\n# TYPE atrium_outbox_pending gauge\n");
        let _ = writeln!(out, "atrium_outbox_pending {}", s.pending);
        out.push_str("# HELP atrium_outbox_oldest_age_seconds Age of the oldest mail waiting to be delivered (0 when none waits).\n");
        out.push_str("# TYPE atrium_outbox_oldest_age_seconds gauge\n");
        let age = s.oldest_created_at.map_or(0.0, |t| ((now.as_millis() - t.as_millis()).max(0)) as f64 / 1000.0);
        let _ = writeln!(out, "atrium_outbox_oldest_age_seconds {age}");
    }
    let pools = services.store().pool_stats();
    out.push_str("# HELP atrium_db_pool_connections Open database connections (busy or idle), by pool.\n# TYPE atrium_db_pool_connections gauge\n");
    for p in &pools {
        let _ = writeln!(out, "atrium_db_pool_connections{{pool=\"{}\"}} {}", p.pool, p.size);
    }
    out.push_str("# HELP atrium_db_pool_idle_connections Idle database connections, by pool.\n# TYPE atrium_db_pool_idle_connections gauge\n");
    for p in &pools {
        let _ = writeln!(out, "atrium_db_pool_idle_connections{{pool=\"{}\"}} {}", p.pool, p.idle);
    }
    out.push_str("# HELP atrium_db_pool_max_connections The most connections each pool opens.\n# TYPE atrium_db_pool_max_connections gauge\n");
    for p in &pools {
        let _ = writeln!(out, "atrium_db_pool_max_connections{{pool=\"{}\"}} {}", p.pool, p.max);
    }
}

#[derive(Clone)]
struct Scrape {
    metrics: Arc<Metrics>,
    services: Services,
}

async fn scrape(State(s): State<Scrape>) -> Response {
    let mut body = s.metrics.render();
    render_store(&s.services, &mut body).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// The router of the metrics listener: `GET /metrics` and nothing else.
pub fn router(metrics: Arc<Metrics>, services: Services) -> axum::Router {
    axum::Router::new().route("/metrics", axum::routing::get(scrape)).with_state(Scrape { metrics, services })
}
