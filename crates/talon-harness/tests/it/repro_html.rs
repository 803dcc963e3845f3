//! `repro DIR --html FILE`: the bug-bundle report page, through the binary, for every bundle.

use std::path::{Path, PathBuf};

use talon_harness::bundle::{INPUT_FILES, run_bundle};

use crate::bundles::bundles;
use crate::{assert_says, exits, harness, repo, scratch};

/// The snapshots of this module (checked by `every_harness_snapshot_belongs_to_a_help_text`).
pub(crate) const REPORT_SNAPSHOTS: &[&str] = &[
    "repro_html_string_true_to_boolean",
    "repro_html_actions_nested_traits_sent_to_a_flat_catalog",
];

/// The text a reader sees, in lines: the stylesheet dropped, a block element's tags a line
/// break and any other tag a space, the entities the page uses decoded, whitespace collapsed
/// within each line, empty lines dropped.
fn text_lines(html: &str) -> String {
    const BLOCKS: &[&str] = &[
        "h1", "h2", "h3", "h4", "p", "li", "tr", "pre", "summary", "section", "article", "div",
        "header", "caption", "table", "ul", "details", "main", "nav",
    ];
    let html = match (html.find("<style>"), html.find("</style>")) {
        (Some(start), Some(end)) => format!("{}{}", &html[..start], &html[end..]),
        _ => html.to_owned(),
    };
    let mut text = String::with_capacity(html.len());
    let mut rest = html.as_str();
    while let Some(at) = rest.find('<') {
        text.push_str(&rest[..at]);
        let Some((tag, after)) = rest[at + 1..].split_once('>') else {
            break;
        };
        let name = tag
            .trim_start_matches('/')
            .split([' ', '/'])
            .next()
            .unwrap_or("");
        text.push(if BLOCKS.contains(&name) { '\n' } else { ' ' });
        rest = after;
    }
    text.push_str(rest);
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.lines()
        .map(collapse)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// [`text_lines`] as one line, for finding text that a line break may split.
fn text_content(html: &str) -> String {
    collapse(&text_lines(html))
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every tag of `html`, as written between `<` and `>` (text is escaped, so a `<` starts a tag).
fn tags(html: &str) -> Vec<&str> {
    html.split('<')
        .skip(1)
        .filter_map(|rest| rest.split_once('>').map(|(tag, _)| tag))
        .collect()
}

/// Whatever would make a browser fetch something: an element that loads (`script`, `link`,
/// `img`, frames, media, `base`), an attribute that loads (`src`, `srcset`, `poster`, `data`),
/// or a stylesheet that imports or points at a `url(…)`. Links a reader may follow are not
/// assets.
fn external_references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for tag in tags(html) {
        let lower = tag.to_ascii_lowercase();
        let name = lower
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        if [
            "script", "link", "img", "iframe", "frame", "object", "embed", "video", "audio",
            "source", "base", "portal", "picture",
        ]
        .contains(&name)
            // An inline `data:` icon (the shared page shell's) loads nothing from elsewhere.
            && !(name == "link" && lower.contains(r#" href="data:"#))
        {
            found.push(format!("<{tag}>"));
        }
        for attribute in [
            " src=",
            " srcset=",
            " poster=",
            " data=",
            "url(",
            "http-equiv",
        ] {
            if lower.contains(attribute) {
                found.push(format!("<{tag}>"));
            }
        }
    }
    for css in ["@import", "url("] {
        if html.contains(css) {
            found.push(css.to_owned());
        }
    }
    found
}

/// Asserts that `html` is exactly one HTML document.
#[track_caller]
fn assert_one_document(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.trim_end().ends_with("</html>"), "{html}");
    for element in ["<html", "<head>", "</head>", "<body>", "</body>", "<main>"] {
        assert_eq!(html.matches(element).count(), 1, "{element} in {html}");
    }
}

/// Runs `repro` on `bundle` with `--html` into a scratch file; the run, and the page.
fn report_of(bundle: &Path, name: &str, extra: &[&str], code: i32) -> (crate::Printed, String) {
    let out = scratch(&format!("html-page-{name}")).join("report.html");
    let mut args = vec![
        "repro",
        bundle.to_str().unwrap(),
        "--html",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let output = harness(&args, b"");
    let printed = exits(&output, code);
    assert_says(&printed.stdout, &[&format!("wrote {}", out.display())]);
    let html = std::fs::read_to_string(&out).expect("the page is written");
    std::fs::remove_dir_all(out.parent().unwrap()).unwrap();
    (printed, html)
}

/// Asserts that each of `needles` is in `text`, in this order.
#[track_caller]
fn assert_in_order(text: &str, needles: &[String]) {
    let mut from = 0;
    for needle in needles {
        match text[from..].find(needle.as_str()) {
            Some(at) => from += at + needle.len(),
            None => panic!("`{needle}` missing (in order) from:\n{}", &text[from..]),
        }
    }
}

#[test]
fn every_bundle_s_report_is_one_self_contained_page_with_every_explanation_line_and_final_attribute()
 {
    for dir in bundles() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let (_, html) = report_of(&dir, &name, &[], 0);
        assert_one_document(&html);
        assert_eq!(external_references(&html), Vec::<String>::new(), "{name}");
        // The page is attached to tickets: the customer's API key is never on it.
        let settings: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("settings.json")).unwrap())
                .unwrap();
        if let Some(key) = settings["apiKey"].as_str().filter(|k| !k.is_empty()) {
            assert!(!html.contains(key), "{name}: the API key is on the page");
        }
        let text = text_content(&html);
        let events_at = text
            .find("Events, in input order")
            .expect("an events section");
        let profiles_at = text.find("Final profiles, as Talon.One's Customers tab shows them");
        let profiles_at = profiles_at.expect("a profiles section");
        // The final state's sections end where the folded explanation.txt starts.
        let state_end = text
            .find("The explanation as repro prints it")
            .expect("the folded explanation");
        let (events, profiles) = (&text[events_at..profiles_at], &text[profiles_at..state_end]);

        // explanation.txt is what `repro` prints: the page holds each of its lines, the
        // events' in order in the events section, the Customers tab's as table rows.
        let explanation = std::fs::read_to_string(dir.join("explanation.txt")).unwrap();
        let (per_event, tab) = explanation
            .split_once("\n## final profiles, as Talon.One's Customers tab shows them\n")
            .expect("explanation.txt ends with the Customers tab");
        // A Talon.One (Actions) bundle lists memberships and stored events after the tab; the
        // page shows each of those lines after the profiles too.
        let (tab, actions_tabs) = match tab.split_once("\n## audience memberships\n") {
            Some((tab, rest)) => (tab, Some(rest)),
            None => (tab, None),
        };
        if let Some(rest) = actions_tabs {
            let mut shown = vec!["Audience memberships".to_owned()];
            for line in rest.lines().filter(|l| !l.is_empty()) {
                shown.push(match line {
                    "## events Talon.One stored" => "Events Talon.One stored".to_owned(),
                    "(no profile is in a Talon.One audience)" => {
                        "No profile is in a Talon.One audience.".to_owned()
                    }
                    "(no events)" => "No events.".to_owned(),
                    line => collapse(line),
                });
            }
            assert_in_order(profiles, &shown);
        } else {
            assert!(!text.contains("Audience memberships"), "{name}");
        }
        let mut in_events = Vec::new();
        for line in per_event.lines() {
            if let Some(title) = line.strip_prefix("# ") {
                assert!(text.contains(&collapse(title)), "{name}: title {title}");
            } else if line.starts_with("settings: ") {
                assert!(text.contains(&collapse(line)), "{name}: {line}");
            } else if let Some(fact) = line.strip_prefix("    ") {
                in_events.push(collapse(fact));
            } else if let Some((source, first)) = line.split_once(": ") {
                in_events.push(source.to_owned());
                in_events.push(collapse(first));
            } else if !line.is_empty() {
                panic!("{name}: an explanation line the test does not know: {line}");
            }
        }
        assert_in_order(events, &in_events);
        let mut rows = Vec::new();
        for line in tab.lines() {
            match line.strip_prefix("    ") {
                Some("(no attributes)") => rows.push("No attributes.".to_owned()),
                Some(row) => {
                    // `name = value (type)` is the table row `name value type`.
                    let (attribute, rest) = row.split_once(" = ").unwrap();
                    let (value, ty) = rest.rsplit_once(" (").unwrap();
                    let ty = ty.strip_suffix(')').unwrap();
                    let ty = if ty == "unknown type" {
                        "not in the catalog"
                    } else {
                        ty
                    };
                    rows.push(collapse(&format!("{attribute} {value} {ty}")));
                }
                None if line == "(no profiles)" => rows.push("No profiles.".to_owned()),
                None => rows.push(format!("Customer {}", collapse(line))),
            }
        }
        assert_in_order(profiles, &rows);

        // Every attempt the run counts is shown with Talon.One's answer, from the journal.
        let run = run_bundle(&dir).unwrap();
        let mut attempts = 0;
        for event in &run.events {
            assert_eq!(event.unrecorded, 0, "{name}: {}", event.source);
            attempts += event.exchanges.len();
        }
        assert_eq!(
            text.matches("Talon.One's answer").count(),
            attempts,
            "{name}"
        );
        assert_eq!(
            html.matches("<article class=\"event\"").count(),
            run.run.reports.len(),
            "{name}"
        );
    }
}

#[test]
fn the_text_of_one_report_reads_as_its_snapshot() {
    let (_, html) = report_of(
        Path::new(&repo("fixtures/bugs/string_true_to_boolean")),
        "snapshot",
        &[],
        0,
    );
    crate::snapshot_settings().bind(|| {
        insta::assert_snapshot!("repro_html_string_true_to_boolean", text_lines(&html));
    });
}

#[test]
fn the_text_of_an_actions_report_reads_as_its_snapshot() {
    let (_, html) = report_of(
        Path::new(&repo(
            "fixtures/bugs/actions_nested_traits_sent_to_a_flat_catalog",
        )),
        "snapshot-actions",
        &[],
        0,
    );
    crate::snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "repro_html_actions_nested_traits_sent_to_a_flat_catalog",
            text_lines(&html)
        );
    });
}

const HOSTILE: &str = "<script>alert('x')</script> \"q\" ünï ✓";
const HOSTILE_TRAIT: &str = "<b>n\"q\"ü</b>";
const HOSTILE_ID: &str = "<script>u\"1\"ü</script>";

/// A bundle whose README, trait name, values and user id hold markup, quotes and unicode:
/// the first event is rejected (the trait is not in the catalog), the second delivered.
fn hostile_bundle(name: &str) -> PathBuf {
    let dir = scratch(&format!("html-bundle-{name}"));
    let from = repo("fixtures/bugs/string_true_to_boolean");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{from}/talon-state.json")).unwrap())
            .unwrap();
    let attributes = state["attributes"].as_array_mut().unwrap();
    let mut nickname = attributes[0].clone();
    nickname["id"] = 99.into();
    nickname["name"] = "nickname".into();
    nickname["title"] = "nickname".into();
    nickname["type"] = "string".into();
    attributes.push(nickname);
    let files = [
        ("talon-state.json", state.to_string()),
        (
            "settings.json",
            serde_json::json!({
                "apiKey": "bundle-integration-key",
                "applicationDomain": "https://shop.europe-west1.talon.one",
                "customAttributes": [HOSTILE_TRAIT, "nickname"],
            })
            .to_string(),
        ),
        (
            "README.md",
            format!(
                "# Title {HOSTILE}\n\nThe customer says {HOSTILE}\n\n<img src=x onerror=alert(1)>\n"
            ),
        ),
        (
            "events.ndjson",
            format!(
                "{}\n{}\n",
                serde_json::json!({"type": "identify", "userId": HOSTILE_ID, "traits": {HOSTILE_TRAIT: HOSTILE, "nickname": HOSTILE}}),
                serde_json::json!({"type": "identify", "userId": HOSTILE_ID, "traits": {"nickname": HOSTILE}}),
            ),
        ),
    ];
    for (file, text) in files {
        assert!(INPUT_FILES.contains(&file));
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

#[test]
fn markup_quotes_and_unicode_in_the_readme_traits_values_and_user_ids_render_as_text() {
    let dir = hostile_bundle("hostile");
    let (_, html) = report_of(&dir, "hostile", &["--update-expected"], 0);
    assert_one_document(&html);
    assert_eq!(external_references(&html), Vec::<String>::new());
    for markup in ["<script", "<img", "<b>"] {
        assert!(!html.contains(markup), "{markup} in {html}");
    }
    let text = text_content(&html);
    assert_says(
        &text,
        &[
            &format!("Title {HOSTILE}"),
            &format!("The customer says {HOSTILE}"),
            "<img src=x onerror=alert(1)>",
            &format!("rejected by Talon.One for profile `{HOSTILE_ID}`"),
            &format!("Talon.One rejected `{HOSTILE_TRAIT}`: Unknown attribute"),
            "settings: `customAttributes[0]` \"<b>n\\\"q\\\"ü</b>\" is not a valid",
            "PUT https://shop.europe-west1.talon.one/v2/customer_profiles/%3Cscript%3Eu%221%22%C3%BC%3C%2Fscript%3E",
            &format!("Customer {HOSTILE_ID}"),
            // The Attributes row: the value as JSON, so its quotes are escaped by JSON too.
            "nickname \"<script>alert('x')</script> \\\"q\\\" ünï ✓\" string",
        ],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bundle_that_differs_still_gets_its_page_with_the_differences_and_exits_1() {
    let dir = scratch("html-differs");
    for file in INPUT_FILES
        .iter()
        .chain(talon_harness::bundle::EXPECTED_FILES)
    {
        std::fs::copy(
            repo(&format!("fixtures/bugs/string_true_to_boolean/{file}")),
            dir.join(file),
        )
        .unwrap();
    }
    let expected = std::fs::read_to_string(dir.join("expected.json")).unwrap();
    std::fs::write(
        dir.join("expected.json"),
        expected
            .replace("\"rejected\"", "\"delivered\"")
            .replace("400", "200"),
    )
    .unwrap();
    let (printed, html) = report_of(&dir, "differs-page", &[], 1);
    assert_says(&printed.stdout, &["FAIL bundle"]);
    let text = text_content(&html);
    assert_says(
        &text,
        &[
            "FAIL bundle \"A string \"true\" sent to a boolean attribute\" behaves as expected.json and explanation.txt say",
            "events.ndjson:1: expected delivered (200), got rejected (400)",
        ],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn update_expected_with_html_writes_the_page_of_the_run_it_records() {
    let dir = hostile_bundle("recorded");
    let (printed, html) = report_of(&dir, "recorded", &["--update-expected"], 0);
    assert_says(
        &printed.stdout,
        &[&format!("wrote {}", dir.join("expected.json").display())],
    );
    assert_says(
        &text_content(&html),
        &[
            "This run was just written to expected.json and explanation.txt ( --update-expected ): there was nothing to compare it with.",
        ],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn html_to_standard_output_is_refused_before_anything_runs() {
    let output = harness(
        &[
            "repro",
            &repo("fixtures/bugs/string_true_to_boolean"),
            "--html",
            "-",
        ],
        b"",
    );
    let printed = exits(&output, 2);
    assert_says(
        &printed.stderr,
        &[
            "--html needs a file: `-` is refused because standard output already carries the explanation",
        ],
    );
    assert_eq!(printed.stdout, "", "nothing ran");
}

#[test]
fn a_page_that_cannot_be_written_is_exit_2_naming_the_path_even_when_the_bundle_passes() {
    let dir = scratch("html-unwritable");
    let path = dir.join("no-such-folder").join("report.html");
    let output = harness(
        &[
            "repro",
            &repo("fixtures/bugs/string_true_to_boolean"),
            "--html",
            path.to_str().unwrap(),
        ],
        b"",
    );
    let printed = exits(&output, 2);
    assert_says(&printed.stderr, &[&format!("{}: ", path.display())]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_test_s_asset_finder_finds_what_would_load() {
    // The checker of the tests above must be able to fail.
    for page in [
        "<script>x</script>",
        "<link rel=stylesheet href=https://cdn.example/a.css>",
        "<img src=\"a.png\">",
        "<div style=\"background: url(https://x.example/a.png)\">",
        "<style>@import 'https://x.example/a.css';</style>",
        "<iframe src=x>",
    ] {
        assert!(!external_references(page).is_empty(), "{page}");
    }
    assert!(
        external_references("<a href=\"https://docs.talon.one\">docs</a> &lt;img src=x&gt;")
            .is_empty()
    );
    assert!(external_references(r#"<link rel="icon" href="data:,">"#).is_empty());
    assert!(!external_references(r#"<link rel="icon" href="/favicon.ico">"#).is_empty());
}
