//! The browser the tests drive: Debian's `chromedriver` started on a port of its own choosing,
//! a headless Chromium session through `fantoccini`, and a screenshot of every step.
//!
//! `chromedriver --port=0` binds a free port and prints it ("ChromeDriver was started
//! successfully on port N."): the port is read from that line, so there is no port race and
//! nothing waits for a fixed time. The driver runs in a process group of its own, which is
//! killed on drop, so a failing test leaves no browser behind.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// Where Debian's `chromium-driver` package puts the driver (`CHROMEDRIVER` overrides it).
pub(crate) const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Where Debian's `chromium` package puts the browser (`CHROMIUM` overrides it).
pub(crate) const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// How long chromedriver may take to print its port: generous, for a loaded 2-core machine.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a WebDriver `find` waits for an element to appear (the browser's implicit wait).
const IMPLICIT_WAIT_MS: u64 = 20_000;
/// The fixed window size, so screenshots and layout are the same on every run.
const WINDOW: (u32, u32) = (1280, 1000);

/// The line chromedriver prints once it listens, before the port number.
const STARTED: &str = "ChromeDriver was started successfully on port ";

/// Why the browser could not be had.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DriverError {
    /// A program is not installed where it is looked for.
    #[error(
        "{what} not found at {path} ({hint}); install Debian's packages with \
         `apt-get install chromium chromium-driver`, or run the tests through `.ci/test`, \
         which installs them when missing"
    )]
    Missing {
        /// `chromedriver` or `chromium`.
        what: &'static str,
        /// Where it was looked for.
        path: PathBuf,
        /// Which variable would point elsewhere.
        hint: &'static str,
    },
    /// chromedriver could not be started.
    #[error("chromedriver {path} did not start: {source}")]
    Spawn {
        /// The program.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// chromedriver ended, or said nothing usable, before printing its port.
    #[error("chromedriver ended before printing its port; it printed:\n{printed}")]
    NoPort {
        /// Everything it printed on stdout.
        printed: String,
    },
    /// chromedriver did not print its port in time.
    #[error("chromedriver did not print its port within {} s", STARTUP_TIMEOUT.as_secs())]
    Timeout,
    /// The WebDriver session could not be opened.
    #[error("could not open a chromium session through chromedriver: {0}")]
    Session(String),
}

/// The two programs, located.
#[derive(Debug, Clone)]
pub(crate) struct Tools {
    /// The driver.
    pub(crate) chromedriver: PathBuf,
    /// The browser.
    pub(crate) chromium: PathBuf,
}

impl Tools {
    /// The programs at `CHROMEDRIVER` and `CHROMIUM`, or at Debian's paths.
    pub(crate) fn from_env() -> Result<Self, DriverError> {
        Self::at(
            std::env::var_os("CHROMEDRIVER").map(PathBuf::from),
            std::env::var_os("CHROMIUM").map(PathBuf::from),
        )
    }

    /// The programs at the given paths (`None`: Debian's), each checked to exist.
    pub(crate) fn at(
        chromedriver: Option<PathBuf>,
        chromium: Option<PathBuf>,
    ) -> Result<Self, DriverError> {
        let chromedriver = chromedriver.unwrap_or_else(|| DEFAULT_CHROMEDRIVER.into());
        let chromium = chromium.unwrap_or_else(|| DEFAULT_CHROMIUM.into());
        if !chromedriver.is_file() {
            return Err(DriverError::Missing {
                what: "chromedriver",
                path: chromedriver,
                hint: "set CHROMEDRIVER to use another",
            });
        }
        if !chromium.is_file() {
            return Err(DriverError::Missing {
                what: "chromium",
                path: chromium,
                hint: "set CHROMIUM to use another",
            });
        }
        Ok(Self {
            chromedriver,
            chromium,
        })
    }
}

/// The port in chromedriver's "started successfully" line, if `line` is that line.
pub(crate) fn started_port(line: &str) -> Option<u16> {
    line.trim()
        .strip_prefix(STARTED)?
        .strip_suffix('.')?
        .parse()
        .ok()
        .filter(|&port| port != 0)
}

/// A running chromedriver, killed (with every browser it started) on drop.
#[derive(Debug)]
pub(crate) struct ChromeDriver {
    child: Child,
    port: u16,
}

/// What the stdout reader tells the starter.
enum Said {
    Port(u16),
    Ended(String),
}

impl ChromeDriver {
    /// Starts `program --port=0` and waits for the line that names its port.
    pub(crate) fn start(program: &Path) -> Result<Self, DriverError> {
        let mut child = Command::new(program)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Its own process group: chromium's processes join it, and drop kills the group.
            .process_group(0)
            .spawn()
            .map_err(|source| DriverError::Spawn {
                path: program.to_owned(),
                source,
            })?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        // Reads every line until chromedriver ends, so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut printed = String::new();
            let mut told = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !told && let Some(port) = started_port(&line) {
                    told = true;
                    let _ = tx.send(Said::Port(port));
                }
                if !told {
                    printed.push_str(&line);
                    printed.push('\n');
                }
            }
            if !told {
                let _ = tx.send(Said::Ended(printed));
            }
        });
        // From here on, `driver`'s drop ends the process on every early return.
        let mut driver = Self { child, port: 0 };
        match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(Said::Port(port)) => {
                driver.port = port;
                Ok(driver)
            }
            Ok(Said::Ended(printed)) => Err(DriverError::NoPort { printed }),
            Err(_) => Err(DriverError::Timeout),
        }
    }

    /// The WebDriver URL.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The whole group: chromedriver leaves its browsers running when it alone is killed.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The capabilities of a headless Chromium run as root in a container.
pub(crate) fn capabilities(chromium: &Path) -> fantoccini::wd::Capabilities {
    let (width, height) = WINDOW;
    let caps = json!({
        "browserName": "chrome",
        "timeouts": { "implicit": IMPLICIT_WAIT_MS, "pageLoad": 30_000, "script": 30_000 },
        "goog:chromeOptions": {
            "binary": chromium.to_string_lossy(),
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                // Everything is on loopback: never ask a proxy.
                "--no-proxy-server",
                format!("--window-size={width},{height}"),
            ],
        },
    });
    match caps {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("a JSON object"),
    }
}

/// The folder of one test's screenshots: `target/browser-screenshots/<test>/`.
pub(crate) fn screenshot_dir(test: &str) -> PathBuf {
    // `CARGO_TARGET_TMPDIR` is `<target>/tmp`; its parent is the target folder in use.
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .unwrap_or(tmp)
        .join("browser-screenshots")
        .join(test)
}

/// A headless Chromium session, with a screenshot after each step.
#[derive(Debug)]
pub(crate) struct Browser {
    client: Client,
    shots: PathBuf,
    step: u32,
    // Dropped after `client`: the driver outlives the session.
    _driver: ChromeDriver,
}

impl Browser {
    /// Opens a session for `test` (the name of its screenshot folder, emptied first). Panics
    /// with what to install when chromium or chromedriver is missing: a browser test never
    /// passes without a browser.
    pub(crate) async fn open(test: &str) -> Self {
        let opened = match Tools::from_env() {
            Ok(tools) => Self::open_with(test, &tools).await,
            Err(e) => Err(e),
        };
        opened.unwrap_or_else(|e| panic!("browser test {test}: {e}"))
    }

    /// Opens a session with `tools`.
    pub(crate) async fn open_with(test: &str, tools: &Tools) -> Result<Self, DriverError> {
        let driver = ChromeDriver::start(&tools.chromedriver)?;
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities(&tools.chromium))
            .connect(&driver.url())
            .await
            .map_err(|e| DriverError::Session(e.to_string()))?;
        let shots = screenshot_dir(test);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).expect("the screenshot folder is created");
        Ok(Self {
            client,
            shots,
            step: 0,
            _driver: driver,
        })
    }

    /// Opens `url` (only the start page: everything else is reached by clicking).
    pub(crate) async fn open_url(&mut self, url: &str, step: &str) {
        self.client.goto(url).await.expect("the page opens");
        self.shot(step).await;
    }

    /// Saves a screenshot of the page as `<NN>-<step>.png`.
    pub(crate) async fn shot(&mut self, step: &str) {
        self.step += 1;
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = self.shots.join(format!("{:02}-{step}.png", self.step));
        std::fs::write(&path, png).expect("the screenshot is written");
    }

    /// The element matching `css`, waiting for it up to the implicit wait.
    pub(crate) async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no `{css}` on {}: {e}", self.here().await),
        }
    }

    /// Every element matching `css` (none if there is none once the implicit wait is over).
    pub(crate) async fn find_all(&self, css: &str) -> Vec<fantoccini::elements::Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("find_all answers")
    }

    /// The rendered text of the element matching `css`.
    pub(crate) async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .expect("the element's text")
    }

    /// Clicks the element matching `css`, then waits for `then` (an element of the page the
    /// click leads to) and takes the step's screenshot.
    pub(crate) async fn click(&mut self, css: &str, then: &str, step: &str) {
        self.find(css).await.click().await.expect("the click");
        self.find(then).await;
        self.shot(step).await;
    }

    /// Clicks the link whose text is exactly `text` inside `within`, then as [`Self::click`].
    pub(crate) async fn click_link(&mut self, within: &str, text: &str, then: &str, step: &str) {
        let links = self.find_all(&format!("{within} a")).await;
        let mut found = None;
        for link in links {
            if link.text().await.expect("a link's text") == text {
                found = Some(link);
                break;
            }
        }
        let Some(link) = found else {
            panic!("no link `{text}` in `{within}` on {}", self.here().await);
        };
        link.click().await.expect("the click");
        self.find(then).await;
        self.shot(step).await;
    }

    /// The rendered text of every cell (`th` or `td`) of every row matching `css`, row by row,
    /// read in one round trip (a table of the journal has hundreds of cells).
    pub(crate) async fn rows(&self, css: &str) -> Vec<Vec<String>> {
        const READ: &str = "return Array.from(document.querySelectorAll(arguments[0])).map(\
            (row) => Array.from(row.querySelectorAll('th, td')).map((cell) => cell.innerText.trim()));";
        let rows = self
            .client
            .execute(READ, vec![css.into()])
            .await
            .expect("the rows are read");
        serde_json::from_value(rows).expect("rows of cell texts")
    }

    /// Waits, up to a generous `limit`, for an element matching `xpath` to appear by itself
    /// (a page that reloads), then takes the step's screenshot.
    pub(crate) async fn wait_for_xpath(&mut self, xpath: &str, limit: Duration, step: &str) {
        if let Err(e) = self
            .client
            .wait()
            .at_most(limit)
            .for_element(Locator::XPath(xpath))
            .await
        {
            panic!(
                "no `{xpath}` within {} s on {}: {e}",
                limit.as_secs(),
                self.here().await
            );
        }
        self.shot(step).await;
    }

    /// The rendered text of every element matching `css`, in document order.
    pub(crate) async fn texts(&self, css: &str) -> Vec<String> {
        const READ: &str = "return Array.from(document.querySelectorAll(arguments[0]))\
            .map((e) => e.innerText.trim());";
        let texts = self
            .client
            .execute(READ, vec![css.into()])
            .await
            .expect("the texts are read");
        serde_json::from_value(texts).expect("texts")
    }

    /// How many elements match `css` now, without waiting for one to appear.
    pub(crate) async fn count(&self, css: &str) -> usize {
        const COUNT: &str = "return document.querySelectorAll(arguments[0]).length;";
        let count = self
            .client
            .execute(COUNT, vec![css.into()])
            .await
            .expect("the elements are counted");
        serde_json::from_value(count).expect("a count")
    }

    /// Types `text` into the field matching `css` (after clearing it).
    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("the field clears");
        field.send_keys(text).await.expect("the text is typed");
    }

    /// The current URL.
    pub(crate) async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("the current URL")
            .to_string()
    }

    /// The current URL and page text, for failure messages; also saves the page as it is
    /// then as `failed.png` next to the steps' screenshots.
    pub(crate) async fn here(&self) -> String {
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(self.shots.join("failed.png"), png);
        }
        let url = self
            .client
            .current_url()
            .await
            .map_or_else(|e| format!("<no url: {e}>"), |u| u.to_string());
        let body = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        format!("{url}, which reads:\n{body}")
    }

    /// Ends the session (the browser quits), then the driver.
    pub(crate) async fn close(self) {
        let Self {
            client, _driver, ..
        } = self;
        let _ = client.close().await;
        drop(_driver);
    }
}
