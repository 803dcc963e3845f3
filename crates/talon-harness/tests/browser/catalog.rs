//! The attribute catalog and the audiences, reached from the top bar.

use crate::driver::Browser;
use crate::traffic;

#[tokio::test]
async fn the_catalog_sets_names_equal_but_for_case_side_by_side_and_the_audiences_are_listed() {
    let filled = traffic::filled().await;
    // The default catalog has `Language`; a deployment that also made `language` has two
    // attributes a trait can be meant for.
    let created = traffic::create_attribute(&filled.server, "language", "Language (lower)").await;
    assert_eq!(created, 201, "the attribute is created");
    let mut browser = Browser::open("catalog_audiences").await;

    browser.open_url(&filled.start_page(), "start-page").await;
    browser
        .click_link("header.top", "Attributes", "table#catalog", "catalog")
        .await;
    assert_eq!(browser.text("h1").await, "Attribute catalog");
    let rows = browser.rows("table#catalog tbody tr").await;
    assert!(
        rows.contains(&vec![
            "CustomerProfile".to_owned(),
            "name".to_owned(),
            "string".to_owned(),
            "Name".to_owned(),
        ]),
        "name's row: {rows:?}"
    );
    // Only the look-alikes are marked, each naming the other, and they sit side by side.
    let near = browser
        .texts("table#catalog tr.near-miss th > code:first-of-type")
        .await;
    assert_eq!(near, ["Language", "language"], "the marked rows");
    let warnings = browser.texts("table#catalog tr.near-miss span.warn").await;
    assert_eq!(
        warnings,
        [
            "differs only by case from language",
            "differs only by case from Language"
        ]
    );
    let names = browser
        .texts("table#catalog tbody tr th > code:first-of-type")
        .await;
    let at = |name: &str| {
        names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no `{name}` row: {names:?}"))
    };
    assert_eq!(
        at("language"),
        at("Language") + 1,
        "side by side: {names:?}"
    );

    browser
        .click_link("header.top", "Audiences", "table#audiences", "audiences")
        .await;
    assert_eq!(browser.text("h1").await, "Audiences");
    let audiences = browser.rows("table#audiences tbody tr").await;
    let demo = audiences
        .iter()
        .find(|cells| cells[0] == "1")
        .unwrap_or_else(|| panic!("no audience 1: {audiences:?}"));
    assert_eq!(
        demo[1..3],
        ["Segment demo audience", "segment"],
        "{audiences:?}"
    );

    browser.close().await;
}
