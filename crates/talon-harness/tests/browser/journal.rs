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
    // Browsing the view leaves no trace: its pages sit under the control prefix, and the browser
    // asks for no `/favicon.ico` of its own.
    let path = column(&browser, "table#journal", "Path").await;
    assert!(
        unfiltered.iter().all(|row| row[path].starts_with("/v2/")),
        "only the API's requests are journalled: {unfiltered:?}"
    );
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

#[tokio::test]
async fn the_live_journal_shows_a_request_made_after_it_was_opened_by_refreshing_itself() {
    let filled = traffic::filled().await;
    let mut browser = Browser::open("journal_live").await;

    browser.open_url(&filled.start_page(), "start-page").await;
    browser
        .click_link("header.top", "Journal", "form#journal-filters", "journal")
        .await;
    let select = browser
        .find("form#journal-filters select[name=status]")
        .await;
    select
        .select_by_value("4xx")
        .await
        .expect("4xx is an option");
    browser
        .find("form#journal-filters input[type=checkbox][name=live]")
        .await
        .click()
        .await
        .expect("the checkbox is ticked");
    browser
        .click(
            "form#journal-filters button[type=submit]",
            r#"meta[http-equiv="refresh"][content="2"]"#,
            "journal-live",
        )
        .await;
    let late = "/v2/customer_profiles/late-customer";
    let before = browser.text("table#journal").await;
    assert!(!before.contains(late), "not there yet: {before}");

    // A request made now, while nobody touches the page, shows up when it reloads itself.
    let status = traffic::put_profile(
        &filled.server,
        "late-customer",
        serde_json::json!({ "Email": "late@example.com" }),
    )
    .await;
    assert_eq!(status, 400);
    let row = format!("//table[@id='journal']//tr[td[normalize-space()='{late}']]");
    browser
        .wait_for_xpath(
            &row,
            std::time::Duration::from_secs(30),
            "journal-refreshed",
        )
        .await;

    // The reload keeps the filter and stays live.
    let status_column = column(&browser, "table#journal", "Status").await;
    for row in browser.rows("table#journal tbody tr").await {
        assert!(
            row[status_column].starts_with('4'),
            "only 4xx rows: {row:?}"
        );
    }
    let live = browser
        .find("form#journal-filters input[name=live]")
        .await
        .prop("checked")
        .await
        .expect("the checkbox's state");
    assert_eq!(live.as_deref(), Some("true"), "still refreshing");

    browser.close().await;
}
