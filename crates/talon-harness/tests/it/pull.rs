//! `talon-harness pull` and `check --target`: a deployment's catalog read through the Management API, against a fake on 127.0.0.1:0.

use std::io::{Read, Write};
use std::process::Output;

use serde_json::json;
use talon_fake::{Fake, FakeConfig, MockServer, StateFile};

use crate::{assert_says, exits, harness, repo, scratch};

const MKEY: &str = "pull-management-key";

/// A deployment with three applications, five attributes and three audiences.
fn deployment() -> StateFile {
    let attribute = |id: i64, entity: &str, name: &str, ty: &str| {
        json!({"id": id, "entity": entity, "name": name, "title": name, "type": ty,
               "description": format!("attribute {name}"), "suggestions": [], "editable": true})
    };
    let state = json!({
        "accountId": 1,
        "applications": [
            {"id": 1, "name": "Shop EU"}, {"id": 2, "name": "Shop US"}, {"id": 3, "name": "Staging"}
        ],
        "integrationKeys": [{"key": "pull-integration-key", "applicationId": 2}],
        "managementKeys": [MKEY],
        "attributes": [
            attribute(1, "CustomerProfile", "email", "string"),
            attribute(2, "CustomerProfile", "newsletter", "boolean"),
            attribute(3, "CustomerProfile", "logins", "number"),
            attribute(4, "CustomerSession", "channel", "string"),
            attribute(5, "CustomerProfile", "interests", "(list string)")
        ],
        "audiences": [
            {"id": 1, "name": "VIP", "integration": "segment", "integrationId": "aud_vip"},
            {"id": 2, "name": "Churned"},
            {"id": 3, "name": "Newsletter", "description": "opted in"}
        ],
        "profiles": [{"integrationId": "u1", "attributes": {"email": "a@b.c"}, "applications": [1]}]
    });
    StateFile::from_json(&state.to_string()).expect("a valid state")
}

/// Runs `talon-harness args` while a fake from `state` serves on 127.0.0.1:0;
/// `{uri}` in an argument is replaced by the fake's address.
fn with_fake(state: StateFile, args: &[&str]) -> (Output, Fake) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let fake = Fake::new(state, FakeConfig::default()).unwrap();
    let server = runtime.block_on(MockServer::start(fake.clone())).unwrap();
    let uri = server.uri();
    let args: Vec<String> = args.iter().map(|a| a.replace("{uri}", &uri)).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = harness(&args, b"");
    runtime.block_on(server.shutdown());
    (output, fake)
}

#[test]
fn pull_writes_applications_attributes_and_audiences_page_by_page() {
    let dir = scratch("pull-paging");
    let out = dir.join("state.json");
    let (output, fake) = with_fake(
        deployment(),
        &[
            "pull",
            "--target",
            "{uri}",
            "--management-key",
            MKEY,
            "--out",
            out.to_str().unwrap(),
            "--page-size",
            "2",
        ],
    );
    assert_says(
        &exits(&output, 0).stderr,
        &[
            "pulled 3 application(s), 5 attribute(s) (4 CustomerProfile), 3 audience(s)",
            "left out: Integration API keys",
            "left out: customer profiles",
            "left out: field application.timezone (3×)",
        ],
    );

    let pulled = StateFile::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let source = fake.state_dump();
    assert_eq!(pulled.applications, source.applications);
    assert_eq!(pulled.attributes, source.attributes);
    assert_eq!(pulled.audiences, source.audiences);
    assert!(pulled.integration_keys.is_empty());
    assert!(pulled.management_keys.is_empty());
    assert!(pulled.profiles.is_empty());
    // The file is a state talon-fake loads.
    Fake::new(pulled, FakeConfig::default()).expect("a pulled state loads");

    // Three pages of two for applications, attributes and audiences alike.
    let mut pages: Vec<(String, String)> = fake
        .journal()
        .iter()
        .map(|e| (e.path.clone(), e.query.clone().unwrap_or_default()))
        .collect();
    pages.sort();
    let want = |path: &str, skips: &[u32]| -> Vec<(String, String)> {
        skips
            .iter()
            .map(|s| (path.to_owned(), format!("pageSize=2&skip={s}")))
            .collect()
    };
    let mut expected = want("/v1/applications", &[0, 2]);
    expected.extend(want("/v1/attributes", &[0, 2, 4]));
    expected.extend(want("/v1/audiences", &[0, 2]));
    expected.sort();
    assert_eq!(pages, expected);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn pull_with_a_wrong_management_key_exits_2_and_says_the_key_is_not_valid() {
    let dir = scratch("pull-401");
    let out = dir.join("state.json");
    let (output, _) = with_fake(
        deployment(),
        &[
            "pull",
            "--target",
            "{uri}",
            "--management-key",
            "wrong",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_says(
        &exits(&output, 2).stderr,
        &[
            "/v1/applications?pageSize=1000&skip=0 answered 401 Unauthorized: the Management API key is not valid for this deployment",
        ],
    );
    assert!(!out.exists(), "nothing is written");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn pull_from_an_unreachable_target_exits_2_with_a_sentence() {
    // A port that was free a moment ago and has no listener now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = format!("http://127.0.0.1:{port}");
    let printed = exits(&pull_to_stdout(&target, &[]), 2);
    assert_says(
        &printed.stderr,
        &[&format!("error: cannot reach {target}/v1/applications")],
    );
}

#[test]
fn a_target_that_is_not_an_http_url_is_refused_before_any_request() {
    for target in ["yours.talon.one", "ftp://yours.talon.one", "https://"] {
        let printed = exits(&pull_to_stdout(target, &[]), 2);
        assert_says(&printed.stderr, &["is not an http:// or https:// URL"]);
    }
}

/// Runs `pull --target target --management-key MKEY --out - extra…`.
fn pull_to_stdout(target: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "pull",
        "--target",
        target,
        "--management-key",
        MKEY,
        "--out",
        "-",
    ];
    args.extend_from_slice(extra);
    harness(&args, b"")
}

/// An HTTP/1.1 response with this status line, content type and body.
fn http(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Serves connections on 127.0.0.1:0, one after the other, each with
/// `response`, from a thread that lives as long as the test process (no
/// join: a test that fails early must not hang waiting for a connection).
fn answering(response: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    uri
}

#[test]
fn pull_from_a_target_that_ignores_skip_stops_with_a_sentence() {
    let uri = answering(http(
        "200 OK",
        "application/json",
        r#"{"hasMore": true, "data": [{"id": 1, "name": "A"}]}"#,
    ));
    let printed = exits(&pull_to_stdout(&uri, &["--page-size", "1"]), 2);
    assert_says(
        &printed.stderr,
        &["answered the items of an earlier page again: the target does not page with `skip`"],
    );
}

#[test]
fn pull_from_a_target_that_answers_no_json_or_an_error_exits_2_with_a_sentence() {
    for (response, says) in [
        (
            http("200 OK", "text/html", "<html>"),
            "answered 200 OK but not with JSON",
        ),
        (
            http("503 Service Unavailable", "text/plain", "busy"),
            "answered 503 Service Unavailable: busy",
        ),
        (
            http("200 OK", "application/json", "{}"),
            "the answer has no `data` list",
        ),
    ] {
        let printed = exits(&pull_to_stdout(&answering(response), &[]), 2);
        assert_says(&printed.stderr, &[says]);
        assert!(printed.stdout.is_empty());
    }
}

fn bundle_state(bundle: &str) -> StateFile {
    let mut state = StateFile::from_json(
        &std::fs::read_to_string(repo(&format!("fixtures/bugs/{bundle}/talon-state.json")))
            .unwrap(),
    )
    .unwrap();
    state.management_keys.push(MKEY.into());
    state
}

/// Runs `check args… --target <fake> --management-key MKEY` against a fake
/// holding `bundle`'s state.
fn check_live(bundle: &str, args: &[&str]) -> (Output, Fake) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--target", "{uri}", "--management-key", MKEY]);
    with_fake(bundle_state(bundle), &all)
}

#[test]
fn check_against_a_live_target_pulls_the_catalog_pings_the_key_and_finds_the_type_mismatch() {
    let dir = repo("fixtures/bugs/string_true_to_boolean");
    let settings = format!("{dir}/settings.json");
    let events = format!("{dir}/events.ndjson");
    let (output, fake) = check_live(
        "string_true_to_boolean",
        &["--settings", &settings, "--events", &events],
    );
    assert_says(
        &exits(&output, 1).stdout,
        &[
            "the API key `bund…` is valid (GET /v2/authping) and opens application 1 \"Shop\", the deployment's only application",
            "ok   Talon.One knows the API key",
            "events.ndjson:1: `newsletter` is a string \"true\" but Talon.One's `newsletter` is `boolean`",
        ],
    );
    // Reading only: no profile was written.
    assert_eq!(fake.profile_count(), 0);
    assert!(
        fake.journal().iter().all(|e| e.method == "GET"),
        "check sends no traffic"
    );
}

#[test]
fn check_against_a_live_target_fails_when_the_api_key_gets_401() {
    let scratch = scratch("check-live-key");
    let settings = scratch.join("settings.json");
    std::fs::write(
        &settings,
        r#"{"apiKey": "stale-key", "applicationDomain": "https://shop.talon.one", "customAttributes": ["newsletter"]}"#,
    )
    .unwrap();
    let (output, _) = check_live(
        "string_true_to_boolean",
        &["--settings", settings.to_str().unwrap()],
    );
    assert_says(
        &exits(&output, 1).stdout,
        &[
            "FAIL Talon.One knows the API key",
            "the API key `stal…` is not valid for this deployment (GET /v2/authping answered 401)",
        ],
    );
    std::fs::remove_dir_all(&scratch).unwrap();
}

/// The first `127.0.0.1:<port>` (port not 0) in a line.
fn bound_address(line: &str) -> Option<String> {
    line.match_indices("127.0.0.1:").find_map(|(at, _)| {
        let rest = &line[at + "127.0.0.1:".len()..];
        let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
        (!port.is_empty() && port != "0").then(|| format!("127.0.0.1:{port}"))
    })
}

#[test]
fn pull_reads_the_catalog_of_a_running_serve() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_talon-harness"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "serve exited before listening"
        );
        if let Some(addr) = bound_address(&line) {
            break addr;
        }
    };
    let output = harness(
        &[
            "pull",
            "--target",
            &format!("http://{addr}"),
            "--management-key",
            "segment-demo-management-key",
            "--out",
            "-",
        ],
        b"",
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let pulled = StateFile::from_json(&exits(&output, 0).stdout).unwrap();
    let default = StateFile::default_state();
    assert_eq!(pulled.applications, default.applications);
    let names = |s: &StateFile| -> Vec<(String, talon_fake::rules::AttrType)> {
        s.attributes
            .iter()
            .map(|a| (a.name.clone(), a.ty))
            .collect()
    };
    assert_eq!(names(&pulled), names(&default));
    assert_eq!(pulled.audiences.len(), default.audiences.len());
}
