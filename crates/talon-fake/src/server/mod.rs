//! Serving the fake on a socket: [`MockServer`] for tests (wiremock-style) and [`serve`] for the standalone binary.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

mod deadlines;

pub(crate) use deadlines::is_body_timeout;
use deadlines::{HeadTimed, Phase, TimeoutBody};

use crate::api::router;
use crate::faults::{FaultPlan, FaultPlanError};
use crate::state::{Clock, Fake, FakeConfig};
use crate::state_file::{StateFile, StateFileError};

/// Default time in-flight requests get to finish once a server is asked to stop: 5 s, chosen here.
/// Connections still open after it are closed.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// How a server stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Connections still open at the shutdown deadline (or at a second signal), closed
    /// without finishing.
    pub cut: usize,
    /// Whether a second stop signal cut the grace period short.
    pub forced: bool,
}

impl std::fmt::Display for Stopped {
    /// The stop line: `talon-fake stopped`, plus what was cut, if anything.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("talon-fake stopped")?;
        let s = if self.cut == 1 { "" } else { "s" };
        match (self.forced, self.cut) {
            (false, 0) => Ok(()),
            (false, n) => write!(
                f,
                " ({n} connection{s} still busy at the shutdown deadline, closed)"
            ),
            (true, n) => write!(f, " at once on a second signal ({n} connection{s} closed)"),
        }
    }
}

/// A fake listening on `127.0.0.1:<free port>`; stops on [`MockServer::shutdown`] or drop.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    fake: Fake,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Starts serving `fake` on `127.0.0.1:0`.
    pub async fn start(fake: Fake) -> std::io::Result<Self> {
        Self::start_on(fake, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts serving `fake` on `addr`.
    pub async fn start_on(fake: Fake, addr: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, rx) = oneshot::channel::<()>();
        let served = run(
            listener,
            fake.clone(),
            async {
                let _ = rx.await;
            },
            std::future::pending(),
            DEFAULT_SHUTDOWN_TIMEOUT,
        );
        let task = tokio::spawn(async move {
            served.await;
        });
        Ok(Self {
            addr,
            fake,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The fake behind the server (state, journal, faults).
    pub fn fake(&self) -> &Fake {
        &self.fake
    }

    /// Stops accepting, lets in-flight requests finish (at most [`DEFAULT_SHUTDOWN_TIMEOUT`]),
    /// and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

// ------------------------------------------------------------------ the accept loop

/// Serves `fake` on `listener` until `stop` completes; then stops accepting, lets open
/// connections finish their request for up to `grace`, and closes the rest.
///
/// Each connection is hyper's HTTP/1 with [`FakeConfig::max_header_bytes`]; its socket is a
/// [`HeadTimed`], which closes a connection idle for [`FakeConfig::idle_timeout`] and
/// enforces [`FakeConfig::header_timeout`] from a request's first byte; each request body is
/// wrapped in [`TimeoutBody`] with [`FakeConfig::body_timeout`]. `axum::serve` offers none of
/// these, hence this loop (it follows `axum::serve`'s own).
async fn run(
    listener: TcpListener,
    fake: Fake,
    stop: impl Future<Output = ()> + Send,
    force: impl Future<Output = ()> + Send,
    grace: Duration,
) -> Stopped {
    let cfg = &fake.inner.config;
    let mut http = hyper::server::conn::http1::Builder::new();
    // The idle and header timeouts are the socket's ([`HeadTimed`]): hyper's own header
    // timer would box and register a sleep for every request.
    http.header_read_timeout(None)
        .max_header_size(cfg.max_header_bytes);
    let idle_timeout = cfg.idle_timeout;
    let http = Arc::new(http);
    let body_timeout = cfg.body_timeout;
    let header_timeout = cfg.header_timeout;
    let app = router(fake.clone());
    let (stopping, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            biased;
            () = &mut stop => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) if is_connection_error(&e) => continue,
                    Err(e) => {
                        // Out of file descriptors and the like: wait instead of spinning (as axum does).
                        tracing::error!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                let http = Arc::clone(&http);
                let app = app.clone();
                let mut stop_rx = stop_rx.clone();
                conns.spawn(async move {
                    let phase = Phase::new();
                    let io = HeadTimed::new(stream, Arc::clone(&phase), header_timeout, idle_timeout);
                    let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                        // The headers are in: the header timer stops, the body deadline starts.
                        phase.in_request();
                        let deadline = Instant::now() + body_timeout;
                        let req = req.map(|b| Body::new(TimeoutBody::new(b, deadline)));
                        let answer = tower::Service::call(&mut app.clone(), req);
                        let phase = Arc::clone(&phase);
                        async move {
                            let r = answer.await;
                            // Bytes read from now on are the next request's.
                            phase.idle();
                            r
                        }
                    });
                    let conn = http.serve_connection(TokioIo::new(io), svc);
                    let mut conn = std::pin::pin!(conn);
                    let served = tokio::select! {
                        r = conn.as_mut() => r,
                        // The value only ever changes to `true` (or the sender is gone): stop.
                        _ = stop_rx.changed() => {
                            conn.as_mut().graceful_shutdown();
                            conn.await
                        }
                    };
                    if let Err(e) = served {
                        tracing::debug!(error = %e, "connection closed");
                    }
                });
            }
        }
    }
    drop(listener);
    let _ = stopping.send(true);
    let mut forced = false;
    let drained = tokio::select! {
        r = tokio::time::timeout(grace, async {
            while conns.join_next().await.is_some() {}
        }) => r.is_ok(),
        () = force => {
            forced = true;
            false
        }
    };
    let mut cut = 0;
    if !drained {
        conns.abort_all();
        while let Some(r) = conns.join_next().await {
            if r.is_err_and(|e| e.is_cancelled()) {
                cut += 1;
            }
        }
    }
    Stopped { cut, forced }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Configuration of the standalone server.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Listen address.
    pub addr: SocketAddr,
    /// State file (the built-in default state if absent).
    pub state: Option<PathBuf>,
    /// Fault plan file (no faults if absent).
    pub faults: Option<PathBuf>,
    /// Journal cap (entries).
    pub journal_cap: usize,
    /// Timestamp source; [`Clock::System`] for a live server.
    pub clock: Clock,
    /// See [`FakeConfig::header_timeout`].
    pub header_timeout: Duration,
    /// See [`FakeConfig::idle_timeout`].
    pub idle_timeout: Duration,
    /// See [`FakeConfig::body_timeout`].
    pub body_timeout: Duration,
    /// Time in-flight requests get to finish after a stop signal; the rest are closed.
    pub shutdown_timeout: Duration,
    /// Token `/__admin/*` requires (`Authorization: Bearer <token>`); see [`FakeConfig::admin_token`].
    pub admin_token: Option<String>,
    /// Serve `/__admin/*` without a token on a non-loopback address (otherwise refused).
    pub insecure_admin: bool,
    /// See [`FakeConfig::relay_rate_limit`] (`None`: off).
    pub relay_rate_limit: Option<u32>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            state: None,
            faults: None,
            journal_cap: crate::journal::DEFAULT_JOURNAL_CAP,
            clock: Clock::System,
            header_timeout: crate::state::DEFAULT_HEADER_TIMEOUT,
            idle_timeout: crate::state::DEFAULT_IDLE_TIMEOUT,
            body_timeout: crate::state::DEFAULT_BODY_TIMEOUT,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            admin_token: None,
            insecure_admin: false,
            relay_rate_limit: Some(crate::DEFAULT_RELAY_RATE_LIMIT),
        }
    }
}

impl ServeConfig {
    /// Refuses a configuration that would hand out every key and the state to the network:
    /// a non-loopback address with neither an admin token nor `insecure_admin`.
    pub fn check(&self) -> Result<(), ServeError> {
        if !self.addr.ip().is_loopback() && self.admin_token.is_none() && !self.insecure_admin {
            return Err(ServeError::AdminUnprotected { addr: self.addr });
        }
        if self.admin_token.as_deref().is_some_and(str::is_empty) {
            return Err(ServeError::EmptyAdminToken);
        }
        Ok(())
    }
}

/// Why [`serve`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The state file is invalid.
    #[error(transparent)]
    State(#[from] StateFileError),
    /// The fault plan is invalid.
    #[error(transparent)]
    Faults(#[from] FaultPlanError),
    /// The address cannot be listened on (taken, not local, not permitted).
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why, in plain words (`address already in use`).
        reason: String,
    },
    /// A non-loopback address with an open admin surface.
    #[error(
        "refusing to serve /__admin on {addr} without a token: pass --admin-token <token> (clients send Authorization: Bearer <token>), or --insecure-admin to serve it open"
    )]
    AdminUnprotected {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// `--admin-token ""`.
    #[error("the admin token must not be empty")]
    EmptyAdminToken,
    /// Serving failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

fn read(path: &PathBuf) -> Result<String, ServeError> {
    std::fs::read_to_string(path).map_err(|source| ServeError::Read {
        path: path.clone(),
        source,
    })
}

/// Builds the [`Fake`] a [`ServeConfig`] describes (reads the files).
pub fn fake_from_config(cfg: &ServeConfig) -> Result<Fake, ServeError> {
    let state = match &cfg.state {
        Some(p) => StateFile::from_json(&read(p)?)?,
        None => StateFile::default_state(),
    };
    let faults = match &cfg.faults {
        Some(p) => FaultPlan::from_json(&read(p)?)?,
        None => FaultPlan::default(),
    };
    let config = FakeConfig {
        clock: cfg.clock,
        journal_cap: cfg.journal_cap,
        faults,
        header_timeout: cfg.header_timeout,
        idle_timeout: cfg.idle_timeout,
        body_timeout: cfg.body_timeout,
        admin_token: cfg.admin_token.clone(),
        relay_rate_limit: cfg.relay_rate_limit,
        ..FakeConfig::default()
    };
    Ok(Fake::new(state, config)?)
}

/// Binds `addr`, naming it in the error (`cannot listen on 127.0.0.1:8080: address already in use`).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr).await.map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::AddrInUse => "address already in use".to_owned(),
            std::io::ErrorKind::AddrNotAvailable => "address not available".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => e.to_string(),
        };
        ServeError::Bind { addr, reason }
    })
}

/// What a server on `addr` serves, one line each, for a startup banner: the base URL, the
/// two APIs with their auth schemes, and the admin URLs.
pub fn banner(addr: SocketAddr, admin_token: bool) -> Vec<String> {
    let base = format!("http://{addr}");
    let admin_auth = if admin_token {
        " (Authorization: Bearer <admin token>)"
    } else {
        " (open)"
    };
    vec![
        format!("talon-fake listening on {base}"),
        format!("  integration API  {base}/v2/…   Authorization: ApiKey-v1 <key>"),
        format!("  management API   {base}/v1/…   Authorization: ManagementKey-v1 <key>"),
        format!(
            "  admin{admin_auth}  {base}/__admin/journal  {base}/__admin/state  {base}/__admin/reset  {base}/__admin/faults"
        ),
        if admin_token {
            format!(
                "  view             {base}{}/?token=<admin token>   (open once in a browser; a cookie keeps you in)",
                crate::view::VIEW_PREFIX
            )
        } else {
            format!(
                "  view             {base}{}/   (the Campaign Manager view: customers, attributes, journal)",
                crate::view::VIEW_PREFIX
            )
        },
    ]
}

/// Stop signals, Ctrl-C (SIGINT) and, on Unix, SIGTERM, counted as they arrive.
///
/// [`StopSignals::install`] registers the handlers at once, before it
/// returns: a server that prints its address after installing them cannot be
/// killed by a signal sent the moment the address appears.
#[derive(Debug)]
pub struct StopSignals(watch::Receiver<u32>);

impl StopSignals {
    /// Installs the handlers now and counts signals from here on. Needs a
    /// tokio runtime.
    pub fn install() -> Self {
        let (tx, rx) = watch::channel(0u32);
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let interrupt = signal(SignalKind::interrupt()).ok();
            let terminate = signal(SignalKind::terminate()).ok();
            tokio::spawn(async move {
                let (Some(mut interrupt), Some(mut terminate)) = (interrupt, terminate) else {
                    return;
                };
                loop {
                    let got = tokio::select! {
                        r = interrupt.recv() => r.is_some(),
                        r = terminate.recv() => r.is_some(),
                    };
                    if !got {
                        return;
                    }
                    tx.send_modify(|n| *n += 1);
                    if tx.receiver_count() == 0 {
                        return;
                    }
                }
            });
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                tx.send_modify(|n| *n += 1);
                if tx.receiver_count() == 0 {
                    return;
                }
            }
        });
        Self(rx)
    }
}

/// Checks `cfg` ([`ServeConfig::check`]), builds its fake and binds its address: everything
/// that can fail before serving, so a caller can print the real address before it serves.
pub async fn prepare(cfg: &ServeConfig) -> Result<(Fake, TcpListener), ServeError> {
    cfg.check()?;
    let fake = fake_from_config(cfg)?;
    let listener = bind(cfg.addr).await?;
    Ok((fake, listener))
}

/// Runs the fake until Ctrl-C or SIGTERM, then shuts down gracefully within
/// [`ServeConfig::shutdown_timeout`]; a second signal stops at once.
pub async fn serve(cfg: ServeConfig) -> Result<Stopped, ServeError> {
    let (fake, listener) = prepare(&cfg).await?;
    let signals = StopSignals::install();
    for line in banner(listener.local_addr()?, cfg.admin_token.is_some()) {
        tracing::info!("{line}");
    }
    let stopped = serve_on_signals(listener, fake, cfg.shutdown_timeout, signals).await?;
    tracing::info!("{stopped}");
    Ok(stopped)
}

/// Serves `fake` on `listener` until Ctrl-C or SIGTERM (counted by `signals`, installed
/// before the caller announced the address), then shuts down gracefully within `grace`; a
/// second signal stops at once (every open connection is closed).
pub async fn serve_on_signals(
    listener: TcpListener,
    fake: Fake,
    grace: Duration,
    signals: StopSignals,
) -> Result<Stopped, ServeError> {
    let mut first = signals.0.clone();
    let mut second = signals.0;
    let stopped = run(
        listener,
        fake,
        async move {
            if first.wait_for(|n| *n >= 1).await.is_err() {
                // No signal can arrive (the handler could not be installed): serve on.
                std::future::pending::<()>().await;
            }
            tracing::info!(
                grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
                "stopping: finishing in-flight requests (a second Ctrl-C stops at once)"
            );
        },
        async move {
            if second.wait_for(|n| *n >= 2).await.is_err() {
                std::future::pending::<()>().await;
            }
        },
        grace,
    )
    .await;
    Ok(stopped)
}

/// Runs the fake until `shutdown` completes, then shuts down gracefully.
pub async fn serve_until(
    cfg: ServeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Stopped, ServeError> {
    let (fake, listener) = prepare(&cfg).await?;
    Ok(run(
        listener,
        fake,
        shutdown,
        std::future::pending(),
        cfg.shutdown_timeout,
    )
    .await)
}

/// Serves `fake` on a listener that is already bound (a test binds
/// `127.0.0.1:0` itself and knows the address before the first request)
/// until `shutdown` completes, then shuts down gracefully within
/// [`DEFAULT_SHUTDOWN_TIMEOUT`].
pub async fn serve_on(
    listener: TcpListener,
    fake: Fake,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Stopped, ServeError> {
    serve_on_with(listener, fake, shutdown, DEFAULT_SHUTDOWN_TIMEOUT).await
}

/// [`serve_on`] with a shutdown deadline of `grace`.
pub async fn serve_on_with(
    listener: TcpListener,
    fake: Fake,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> Result<Stopped, ServeError> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, profiles = fake.profile_count(), "talon-fake listening");
    let stopped = run(listener, fake, shutdown, std::future::pending(), grace).await;
    tracing::info!(cut = stopped.cut, "talon-fake stopped");
    Ok(stopped)
}
