//! Running events against a target: the embedded fake on a real socket, or a
//! deployment's URL; and reading a `talon-harness serve`'s final state back.
//!
//! Behind `replay` (which streams) and `repro` (which keeps every report).

use std::io::Write;

use talon_fake::rules::{AttrType, Entity};
use talon_fake::{Fake, FakeConfig, JournalEntry, MockServer, StateFile};

use crate::Error;
use crate::deliver::{self, DeliveryConfig, Watch};
use crate::input::EventLine;
use crate::report::{EventDelivery, EventReport, Summary};

/// The result of running events against a target.
#[derive(Debug)]
pub struct Run {
    /// One report per event, in input order.
    pub reports: Vec<EventReport>,
    /// The totals.
    pub summary: Summary,
    /// The final state, when the target can give it.
    pub state: Option<StateFile>,
    /// The embedded fake's journal: every request it received and its answer, in arrival
    /// order (empty for a remote target).
    pub journal: Vec<JournalEntry>,
}

/// Where events go.
#[derive(Debug, Clone)]
pub enum Target {
    /// A fake started in this process from this state, on a real socket (boxed: a state is
    /// large next to a URL).
    Embedded(Box<StateFile>),
    /// A URL.
    Remote(String),
}

/// Maps and delivers `events` to `target`, through a real socket, and
/// keeps every event's report (for small inputs: bundles, tests).
pub async fn run_events(
    destination: &talon_mapper::Destination,
    events: impl IntoIterator<Item = EventLine>,
    target: Target,
    configure: impl FnOnce(&mut DeliveryConfig),
) -> Result<Run, Error> {
    let mut reports = Vec::new();
    let (summary, fake, _) = stream_events(destination, events, target, configure, None, |d| {
        reports.push(d.report);
        Ok(())
    })
    .await?;
    let (state, journal) = match fake {
        Some(fake) => (Some(fake.state_dump()), fake.journal()),
        None => (None, Vec::new()),
    };
    Ok(Run {
        reports,
        summary,
        state,
        journal,
    })
}

/// Maps and delivers `events` to `target`, handing each event's report (with its requests'
/// reports: [`EventDelivery`]) to `sink` in input order as soon as it is known, so nothing
/// grows with the input. `total`, when known, sizes the progress bar. The first error of
/// `sink` is returned after the run (every event is still delivered and
/// counted).
pub async fn stream_events(
    destination: &talon_mapper::Destination,
    events: impl IntoIterator<Item = EventLine>,
    target: Target,
    configure: impl FnOnce(&mut DeliveryConfig),
    total: Option<u64>,
    mut sink: impl FnMut(EventDelivery) -> Result<(), Error>,
) -> Result<(Summary, Option<Fake>, Watch), Error> {
    let (uri, server) = match target {
        Target::Embedded(state) => {
            let fake = Fake::new(*state, FakeConfig::default())
                .map_err(|e| Error::Input(format!("Talon.One state: {e}")))?;
            let server = MockServer::start(fake).await.map_err(|source| Error::Io {
                path: "127.0.0.1:0".into(),
                source,
            })?;
            (server.uri(), Some(server))
        }
        Target::Remote(url) => (url, None),
    };
    let mut config = DeliveryConfig::new(uri.clone());
    configure(&mut config);
    let client = deliver::client(&config);
    let progress = crate::simulation::progress_bar(total);
    let mut sink_error = None;
    let lines = events.into_iter().map(|e| (e.source, e.bytes));
    let (summary, watch) = deliver::run_detailed(lines, destination, &client, &config, |r| {
        progress.inc(1);
        if sink_error.is_none()
            && let Err(e) = sink(r)
        {
            sink_error = Some(e);
        }
    })
    .await;
    progress.finish_and_clear();
    // The embedded fake outlives its server: its state is read after the socket is closed.
    let fake = match server {
        Some(server) => {
            let fake = server.fake().clone();
            server.shutdown().await;
            Some(fake)
        }
        None => None,
    };
    match sink_error {
        Some(error) => Err(error),
        None => Ok((summary, fake, watch)),
    }
}

/// `CustomerProfile` attribute types by name.
pub type Catalog = std::collections::BTreeMap<String, AttrType>;

/// The `CustomerProfile` attribute types of a state.
pub fn catalog_of(state: &StateFile) -> Catalog {
    state
        .attributes
        .iter()
        .filter(|a| a.entity == Entity::CustomerProfile)
        .map(|a| (a.name.clone(), a.ty))
        .collect()
}

/// Checks that `url` is a `talon-harness serve` that can hand out its final
/// state, before any event is sent.
pub async fn probe_admin(url: &str, token: Option<&str>) -> Result<(), Error> {
    let address = format!("{url}{}/faults", talon_fake::ADMIN_PREFIX);
    let refuse = |why: String| {
        Error::Input(format!(
            "--dump-state needs the target's final state, and {url} cannot give it ({why}): only a `talon-harness serve` has {}/state (with --admin-token when it was started with one); nothing was sent",
            talon_fake::ADMIN_PREFIX
        ))
    };
    match admin_get(&address, token).await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(refuse(format!(
            "GET {address} answered {}",
            response.status()
        ))),
        Err(e) => Err(refuse(format!("GET {address}: {e}"))),
    }
}

/// A GET of an admin URL, with the admin token when there is one.
async fn admin_get(address: &str, token: Option<&str>) -> reqwest::Result<reqwest::Response> {
    let client = reqwest::Client::builder().no_proxy().build()?;
    let mut request = client.get(address);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await
}

/// Streams a `serve`'s state, keys revealed so that the file loads again, into `out`.
pub async fn download_state(
    url: &str,
    token: Option<&str>,
    out: &mut impl Write,
) -> Result<(), Error> {
    let address = format!("{url}{}/state?reveal_keys=true", talon_fake::ADMIN_PREFIX);
    let fail = |e: &dyn std::fmt::Display| {
        Error::Input(format!(
            "cannot read the state from {address} (only a talon-harness serve has it): {e}"
        ))
    };
    let mut response = admin_get(&address, token).await.map_err(|e| fail(&e))?;
    if !response.status().is_success() {
        return Err(fail(&response.status()));
    }
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(&e))? {
        out.write_all(&chunk).map_err(|e| fail(&e))?;
    }
    Ok(())
}
