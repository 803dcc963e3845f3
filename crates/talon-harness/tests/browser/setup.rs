//! The browser set-up itself: finding the programs, reading chromedriver's port, failing
//! loudly when something is missing.

use std::path::PathBuf;

use crate::driver::{ChromeDriver, DriverError, Tools, started_port};

#[test]
fn the_port_is_read_from_chromedriver_s_started_line_and_from_no_other() {
    assert_eq!(
        started_port("ChromeDriver was started successfully on port 40281."),
        Some(40281)
    );
    assert_eq!(
        started_port("ChromeDriver was started successfully on port 9515.\r"),
        Some(9515)
    );
    assert_eq!(
        started_port("Starting ChromeDriver 156.0.8078.114 (ea19f97) on port 0"),
        None
    );
    assert_eq!(
        started_port("ChromeDriver was started successfully on port 0."),
        None
    );
    assert_eq!(started_port("Only local connections are allowed."), None);
}

#[test]
fn a_missing_chromedriver_fails_naming_the_apt_packages_and_ci_test() {
    let missing = PathBuf::from("/nonexistent/chromedriver");
    let err = Tools::at(Some(missing), None).expect_err("no such program");
    let message = err.to_string();
    assert!(
        matches!(
            err,
            DriverError::Missing {
                what: "chromedriver",
                ..
            }
        ),
        "{message}"
    );
    for needle in [
        "/nonexistent/chromedriver",
        "CHROMEDRIVER",
        "apt-get install chromium chromium-driver",
        ".ci/test",
    ] {
        assert!(
            message.contains(needle),
            "`{needle}` missing from: {message}"
        );
    }
}

#[test]
fn a_missing_chromium_fails_naming_the_apt_packages_and_ci_test() {
    // `/bin/sh` stands in for a driver that exists: only the browser is missing.
    let err = Tools::at(Some("/bin/sh".into()), Some("/nonexistent/chromium".into()))
        .expect_err("no such program");
    let message = err.to_string();
    assert!(
        matches!(
            err,
            DriverError::Missing {
                what: "chromium",
                ..
            }
        ),
        "{message}"
    );
    for needle in [
        "/nonexistent/chromium",
        "CHROMIUM",
        "apt-get install chromium chromium-driver",
        ".ci/test",
    ] {
        assert!(
            message.contains(needle),
            "`{needle}` missing from: {message}"
        );
    }
}

#[test]
fn a_driver_that_ends_without_naming_its_port_fails_with_what_it_printed() {
    // `echo --port=0` prints its argument and ends, as a broken driver would.
    let err = ChromeDriver::start(std::path::Path::new("/bin/echo")).expect_err("no port");
    let message = err.to_string();
    assert!(matches!(err, DriverError::NoPort { .. }), "{message}");
    assert!(message.contains("--port=0"), "{message}");
}

#[tokio::test]
async fn the_browser_reads_a_page_of_the_fake_and_saves_a_screenshot_of_it_and_of_a_failure() {
    let fake = talon_fake::Fake::new(
        talon_fake::StateFile::default_state(),
        talon_fake::FakeConfig::default(),
    )
    .expect("default state");
    let server = talon_fake::MockServer::start(fake)
        .await
        .expect("the fake starts");
    let mut browser = crate::driver::Browser::open("smoke").await;

    browser
        .open_url(&format!("{}/__admin/state", server.uri()), "state")
        .await;
    let body = browser.text("body").await;
    assert!(body.contains("\"Segment demo\""), "{body}");
    // What a failure message says: where the browser is and what the page reads, with the
    // page saved as it is.
    let here = browser.here().await;
    assert!(
        here.starts_with(&format!("{}/__admin/state, which reads:", server.uri())),
        "{here}"
    );
    browser.close().await;

    let png = std::fs::read(crate::driver::screenshot_dir("smoke").join("01-state.png"))
        .expect("the step's screenshot is saved");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG file");
    let failed = std::fs::read(crate::driver::screenshot_dir("smoke").join("failed.png"))
        .expect("the page at the failure is saved");
    assert!(failed.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG file");
}

#[test]
fn a_browser_test_run_without_chromedriver_fails_and_says_what_to_install() {
    // This very test binary, running one browser test with the driver pointed nowhere.
    let me = std::env::current_exe().expect("the test binary");
    let out = std::process::Command::new(me)
        .args([
            "--exact",
            "setup::the_browser_reads_a_page_of_the_fake_and_saves_a_screenshot_of_it_and_of_a_failure",
            "--test-threads=1",
        ])
        .env("CHROMEDRIVER", "/nonexistent/chromedriver")
        .output()
        .expect("the test binary runs");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "it must fail:\n{printed}");
    for needle in [
        "1 failed",
        "/nonexistent/chromedriver",
        "apt-get install chromium chromium-driver",
        ".ci/test",
    ] {
        assert!(
            printed.contains(needle),
            "`{needle}` missing from:\n{printed}"
        );
    }
}
