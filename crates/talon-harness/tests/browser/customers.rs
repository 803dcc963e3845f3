//! The Customers tab and a customer's page, reached from the start page by clicking: the
//! near-miss hint, the Attributes tab, the History tab's rejection, an exact search.

use serde_json::json;

use crate::driver::Browser;
use crate::traffic::{self, NAME, USER};

#[tokio::test]
async fn a_near_miss_search_leads_to_user1_whose_attributes_and_rejection_read_as_sent() {
    let filled = traffic::filled().await;
    let mut browser = Browser::open("near_miss_search").await;

    browser.open_url(&filled.start_page(), "start-page").await;
    assert_eq!(browser.text("h1").await, "Applications");
    browser
        .click_link(
            "table#applications",
            "Segment demo",
            "form#customer-search",
            "customers",
        )
        .await;
    assert_eq!(browser.text("h1").await, "Customers");

    // Search is exact and case-sensitive: `User1` does not exist, `user1` does.
    browser.type_into("input#integration-id", "User1").await;
    browser
        .click(
            "form#customer-search button[type=submit]",
            "p#search-hint",
            "search-User1",
        )
        .await;
    let hint = browser.text("p#search-hint").await;
    assert!(
        hint.starts_with("No customer User1; user1 exists."),
        "the hint says `User1` does not exist: {hint}"
    );
    assert!(
        hint.contains("user1 exists"),
        "the hint names the near miss: {hint}"
    );
    browser
        .click_link("p#search-hint", USER, "dl.facts", "customer-user1")
        .await;
    assert_eq!(browser.text("h1").await, USER);

    // Attributes: `name` holds what was sent, as JSON, with its catalog type.
    browser
        .click_link(
            "nav.tabs",
            "Attributes",
            "section#attributes-tab",
            "attributes-tab",
        )
        .await;
    let attributes = browser
        .rows("section#attributes-tab table.attributes tr")
        .await;
    let name = attributes
        .iter()
        .find(|cells| cells.first().map(String::as_str) == Some("name"))
        .unwrap_or_else(|| panic!("no `name` row in {attributes:?}"));
    assert_eq!(
        name[1..],
        [format!("\"{NAME}\""), "string".to_owned()],
        "name's value and type"
    );

    // Audiences: none.
    browser
        .click_link(
            "nav.tabs",
            "Audiences",
            "section#audiences-tab",
            "audiences-tab",
        )
        .await;
    assert_eq!(
        browser.text("section#audiences-tab p").await,
        "Not in any audience."
    );
    assert_eq!(browser.count("table#memberships").await, 0);

    // History: the accepted creation, then the rejected update with its rule, pointer and reason.
    browser
        .click_link("nav.tabs", "History", "section#history-tab", "history-tab")
        .await;
    let accepted = browser.rows("table#history tr.accepted").await;
    assert_eq!(accepted.len(), 1, "one accepted request: {accepted:?}");
    assert!(
        accepted[0]
            .iter()
            .any(|c| c == "PUT /v2/customer_profiles/user1"),
        "{accepted:?}"
    );
    let rejected = browser.rows("table#history tr.rejected").await;
    assert_eq!(rejected.len(), 1, "one rejected request: {rejected:?}");
    assert_eq!(
        browser.text("table#history tr.rejected code.rule").await,
        "attribute.unknown"
    );
    assert_eq!(
        browser.text("table#history tr.rejected code.pointer").await,
        "/attributes/Email"
    );
    let reason = browser.text("table#history tr.rejected span.reason").await;
    assert!(
        reason.contains("Unknown attribute")
            && reason.contains("\"Email\" is not defined for entity CustomerProfile"),
        "the reason in plain words: {reason}"
    );
    let changes = browser.text("table#history tr.rejected ul.changes").await;
    assert!(
        changes.contains("would have set") && changes.contains("\"ada@example.com\""),
        "what the rejected update would have changed: {changes}"
    );

    browser.close().await;
}

#[tokio::test]
async fn an_exact_search_for_a_generated_id_that_needs_encoding_lands_on_its_row_and_its_page() {
    let filled = traffic::filled().await;
    // An id that needs percent-encoding in a URL (`team/58`, `u#49?ref=mail`): typed into the
    // form, sent as a query, and linked to its page, it must come back byte for byte.
    let id = filled
        .delivered
        .iter()
        .find(|id| id.contains(['/', '#', '?', '%', ' ']))
        .expect("the seeded traffic has an id that needs percent-encoding")
        .clone();
    let mut browser = Browser::open("exact_search").await;

    browser.open_url(&filled.start_page(), "start-page").await;
    browser
        .click_link(
            "table#applications",
            "Segment demo",
            "form#customer-search",
            "customers",
        )
        .await;
    // Without a search the list pages through every customer, so the id's row is not alone.
    let listed = browser.rows("table#customers tbody tr").await;
    assert!(listed.len() > 1, "the unsearched list: {listed:?}");

    browser.type_into("input#integration-id", &id).await;
    browser
        .click(
            "form#customer-search button[type=submit]",
            "table#customers",
            "search-exact",
        )
        .await;
    let rows = browser.rows("table#customers tbody tr").await;
    assert_eq!(rows.len(), 1, "just the customer searched for: {rows:?}");
    assert_eq!(rows[0][0], id, "its Integration ID cell");

    browser
        .click_link("table#customers tbody", &id, "dl.facts", "customer")
        .await;
    assert_eq!(browser.text("h1").await, id);

    browser.close().await;
}

#[tokio::test]
async fn the_customers_list_pages_through_every_customer_in_integration_id_order_with_its_attribute_count()
 {
    let filled = traffic::filled().await;
    // Every customer with how many attributes it holds, in integration-ID order.
    let mut every: Vec<(String, String)> = filled
        .server
        .fake()
        .state_dump()
        .profiles
        .into_iter()
        .map(|p| (p.integration_id, p.attributes.len().to_string()))
        .collect();
    every.sort();
    assert!(every.len() > 50, "more than a page: {}", every.len());
    let mut browser = Browser::open("customers_paging").await;

    browser.open_url(&filled.start_page(), "start-page").await;
    assert_eq!(
        browser.rows("table#applications tr").await,
        [
            ["Name", "ID", "Customers"].map(String::from),
            [
                "Segment demo".to_owned(),
                "1".to_owned(),
                every.len().to_string()
            ],
        ],
        "the one application, with its count of customers"
    );
    browser
        .click_link(
            "table#applications",
            "Segment demo",
            "form#customer-search",
            "page-1",
        )
        .await;
    assert_eq!(
        browser.rows("table#customers thead tr").await,
        [["Integration ID", "Created", "Last activity", "Attributes"]],
    );
    let mut listed = Vec::new();
    let mut pages = 1;
    loop {
        let rows = browser.rows("table#customers tbody tr").await;
        assert!(rows.len() <= 50, "50 per page: {}", rows.len());
        listed.extend(
            rows.into_iter()
                .map(|cells| (cells[0].clone(), cells[3].clone())),
        );
        if browser.count("nav.pages a[rel=next]").await == 0 {
            break;
        }
        pages += 1;
        assert!(pages <= every.len() / 50 + 1, "no page past the last");
        let step = format!("page-{pages}");
        browser
            .click_link(
                r#"nav.pages[aria-label="Pages"]"#,
                "Next page",
                "nav.pages a[rel=prev]",
                &step,
            )
            .await;
    }
    assert_eq!(
        listed, every,
        "every customer once, in integration-ID order, with its count of attributes"
    );
    assert_eq!(pages, every.len().div_ceil(50));

    browser.close().await;
}

#[tokio::test]
async fn a_customer_s_audiences_tab_lists_the_audience_a_request_added_them_to() {
    let filled = traffic::filled().await;
    let member = "member-1";
    let body = json!({ "attributes": { "name": "Grace" }, "audiencesChanges": { "adds": [1], "deletes": [] } });
    // Talon.One applies audience changes only when the Rule Engine runs.
    let status =
        traffic::put_profile_body(&filled.server, member, "?runRuleEngine=true", body).await;
    assert_eq!(status, 200, "the membership is added");
    let mut browser = Browser::open("audiences_tab").await;

    browser.open_url(&filled.start_page(), "start-page").await;
    browser
        .click_link(
            "table#applications",
            "Segment demo",
            "form#customer-search",
            "customers",
        )
        .await;
    browser.type_into("input#integration-id", member).await;
    browser
        .click(
            "form#customer-search button[type=submit]",
            "table#customers",
            "search",
        )
        .await;
    browser
        .click_link("table#customers tbody", member, "dl.facts", "customer")
        .await;
    // The tab is "current" once chosen.
    browser
        .click_link(
            "nav.tabs",
            "Audiences",
            "section#audiences-tab",
            "audiences-tab",
        )
        .await;
    assert_eq!(
        browser
            .text(r#"nav.tabs[aria-label="Customer"] a[aria-current="page"]"#)
            .await,
        "Audiences"
    );
    let memberships = browser.rows("table#memberships tbody tr").await;
    assert_eq!(
        memberships,
        [["Segment demo audience", "1"]],
        "the audience and its ID"
    );

    browser.close().await;
}
