//! Serving the fake on a socket: [`MockServer`] for tests (wiremock-style) and [`serve`] for the standalone binary.

use std::net::SocketAddr;
use std::path::PathBuf;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::fake::{Clock, Fake, FakeConfig};
use crate::faults::{FaultPlan, FaultPlanError};
use crate::http::router;
use crate::state_file::{StateFile, StateFileError};

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
        let app = router(fake.clone());
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "talon-fake server stopped with an error");
            }
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

    /// Stops accepting, lets in-flight requests finish, and waits for the server task.
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
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            state: None,
            faults: None,
            journal_cap: crate::journal::DEFAULT_JOURNAL_CAP,
            clock: Clock::System,
        }
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
    /// Binding or serving failed.
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
        ..FakeConfig::default()
    };
    Ok(Fake::new(state, config)?)
}

/// Runs the fake until Ctrl-C, then shuts down gracefully.
pub async fn serve(cfg: ServeConfig) -> Result<(), ServeError> {
    serve_until(cfg, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Runs the fake until `shutdown` completes, then shuts down gracefully.
pub async fn serve_until(
    cfg: ServeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let fake = fake_from_config(&cfg)?;
    let listener = TcpListener::bind(cfg.addr).await?;
    serve_on(listener, fake, shutdown).await
}

/// Serves `fake` on a listener that is already bound (a test binds
/// `127.0.0.1:0` itself and knows the address before the first request)
/// until `shutdown` completes, then shuts down gracefully.
pub async fn serve_on(
    listener: TcpListener,
    fake: Fake,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, profiles = fake.profile_count(), "talon-fake listening");
    axum::serve(listener, router(fake))
        .with_graceful_shutdown(shutdown)
        .await?;
    tracing::info!("talon-fake stopped");
    Ok(())
}
