//! The journal page, reached from the top bar, filtered by status.

use crate::driver::Browser;
use crate::traffic;

/// The position of the column headed `name` in `table`'s header row.
async fn column(browser: &Browser, table: &str, name: &str) -> usize {
    let header = browser.rows(&format!("{table} thead tr")).await;
    header
        .first()
        .and_then(|cells| cells.iter().position(|c| c == name))
        .unwrap_or_else(|| panic!("no `{name}` column in {header:?}"))
}

#[tokio::test]
async fn the_journal_filtered_by_4xx_shows_only_rejected_rows() {
    let filled = traffic::filled().await;
    let mut browser = Browser::open("journal_4xx").await;

    browser.open_url(&filled.start_page(), "start-page").await;
    browser
        .click_link("header.top", "Journal", "form#journal-filters", "journal")
        .await;
    assert_eq!(browser.text("h1").await, "Journal");
    let status = column(&browser, "table#journal", "Status").await;
    let unfiltered = browser.rows("table#journal tbody tr").await;
    assert!(
        unfiltered.iter().any(|row| row[status].starts_with('2')),
        "accepted rows before filtering: {unfiltered:?}"
    );

    let select = browser
        .find("form#journal-filters select[name=status]")
        .await;
    select
        .select_by_value("4xx")
        .await
        .expect("4xx is an option");
    browser
        .click(
            "form#journal-filters button[type=submit]",
            "table#journal",
            "journal-4xx",
        )
        .await;
    let rows = browser.rows("table#journal tbody tr").await;
    assert!(!rows.is_empty(), "rejected rows are listed");
    for row in &rows {
        assert!(row[status].starts_with('4'), "only 4xx rows: {rows:?}");
    }
    // The crafted rejection of `user1`, and every generated one (fewer than a page of them).
    let rule = column(&browser, "table#journal", "Rule").await;
    let path = column(&browser, "table#journal", "Path").await;
    assert!(
        rows.iter()
            .any(|row| row[path] == "/v2/customer_profiles/user1"
                && row[rule] == "attribute.unknown"),
        "the crafted rejection: {rows:?}"
    );
    let profile_rows = rows
        .iter()
        .filter(|row| row[path].starts_with("/v2/customer_profiles/"))
        .count();
    assert_eq!(
        profile_rows,
        filled.rejected + 1,
        "one row per rejected event, and the crafted one: {rows:?}"
    );

    browser.close().await;
}
