//! The view behind an admin token: refused without it, opened once with `?token=`, then
//! browsed by the cookie that sets.

use talon_fake::FakeConfig;

use crate::driver::Browser;
use crate::traffic;

const TOKEN: &str = "view-admin-token";

#[tokio::test]
async fn behind_an_admin_token_the_view_opens_once_with_the_token_then_by_its_cookie() {
    let filled = traffic::filled_with(FakeConfig {
        admin_token: Some(TOKEN.to_owned()),
        ..FakeConfig::default()
    })
    .await;
    let start = filled.start_page();
    let mut browser = Browser::open("admin_token").await;

    browser.open_url(&start, "without-token").await;
    let refused = browser.text("body").await;
    assert!(
        refused.contains("Invalid admin token"),
        "refused without the token: {refused}"
    );
    assert_eq!(browser.count("table#applications").await, 0, "{refused}");

    browser
        .open_url(&format!("{start}?token={TOKEN}"), "with-token")
        .await;
    assert_eq!(browser.text("h1").await, "Applications");
    let url = browser.url().await;
    assert!(
        !url.contains(TOKEN),
        "the token leaves the address bar: {url}"
    );

    // Every further page is reached by clicking, with the cookie alone.
    browser
        .click_link(
            "table#applications",
            "Segment demo",
            "form#customer-search",
            "customers",
        )
        .await;
    assert_eq!(browser.text("h1").await, "Customers");
    browser
        .click_link("header.top", "Journal", "table#journal", "journal")
        .await;
    assert_eq!(browser.text("h1").await, "Journal");

    browser.close().await;
}
