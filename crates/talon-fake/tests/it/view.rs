//! The Campaign Manager view (`/__admin/view/…`): what each page shows after real requests,
//! as text a reviewer can read (snapshots of the pages' text content), escaping, paging, the
//! admin token, and that the view itself is never journalled.

use axum::http::StatusCode;
use serde_json::{Value, json};
use talon_fake::{Fake, FakeConfig, StateFile};

use crate::support::{IKEY, Resp, call, fake, put};

/// The text a page shows: tags dropped, one line per row, heading, paragraph or list item,
/// table cells separated by ` | `, the common entities decoded, blank lines squeezed.
pub(crate) fn text_content(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start + 1..start + end];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        if tag.starts_with("style") {
            // Skip the stylesheet's text.
            let close = rest[start..]
                .find("</style>")
                .map_or(rest.len(), |i| start + i);
            rest = &rest[close..];
            continue;
        }
        match name.as_str() {
            "tr" | "h1" | "h2" | "p" | "li" | "dt" | "nav" | "caption" | "div" | "header"
            | "form" | "label" | "option" | "section" | "table"
                if !tag.starts_with('/') =>
            {
                out.push('\n');
            }
            "td" | "th" | "dd" if !tag.starts_with('/') => out.push_str(" | "),
            "a" | "button" if !tag.starts_with('/') => out.push(' '),
            _ => {}
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `PUT uri` with the integration key.
async fn update(fake: &Fake, uri: &str, body: Value) -> Resp {
    put(fake, uri, Some(IKEY), body).await
}

/// A page of the view: its status and HTML.
async fn view(fake: &Fake, path: &str) -> (StatusCode, String) {
    let resp = call(fake, "GET", path, None, None).await;
    (resp.status, String::from_utf8_lossy(&resp.raw).into_owned())
}

async fn page_text(fake: &Fake, path: &str) -> String {
    let (status, html) = view(fake, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {html}");
    text_content(&html)
}

/// The traffic every test here starts from: `user1` named, then a rejected update of `user1`
/// carrying the unknown attribute `Email`, a second customer, an audience join.
async fn traffic() -> Fake {
    let fake = fake();
    let ok = update(
        &fake,
        "/v2/customer_profiles/user1",
        json!({"attributes": {"name": "Ada", "plan": "team"}}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.json);
    let bad = update(
        &fake,
        "/v2/customer_profiles/user1",
        json!({"attributes": {"Email": "ada@example.com", "plan": "pro"}}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{:?}", bad.json);
    let other = update(
        &fake,
        "/v2/customer_profiles/u-2%2Fb",
        json!({"attributes": {"first_time_shopper": true, "logins": 3}}),
    )
    .await;
    assert_eq!(other.status, StatusCode::OK, "{:?}", other.json);
    let join = call(
        &fake,
        "POST",
        "/v2/customer_audiences",
        Some(IKEY),
        Some(
            json!({"data": [{"action": "add", "profileIntegrationId": "user1", "audienceId": 1}]}),
        ),
    )
    .await;
    assert!(join.status.is_success(), "{:?}", join.json);
    fake
}

#[tokio::test]
async fn the_applications_page_lists_each_application_with_its_customer_count() {
    let fake = traffic().await;
    insta::assert_snapshot!(page_text(&fake, "/__admin/view/").await);
}

#[tokio::test]
async fn the_bare_prefix_redirects_to_the_applications_page() {
    let fake = traffic().await;
    let resp = call(&fake, "GET", "/__admin/view", None, None).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_customers_tab_lists_every_customer_sorted_by_integration_id() {
    let fake = traffic().await;
    insta::assert_snapshot!(page_text(&fake, "/__admin/view/applications/1/customers").await);
}

#[tokio::test]
async fn searching_is_exact_and_case_sensitive_with_a_hint_for_the_near_miss() {
    let fake = traffic().await;
    let miss = page_text(
        &fake,
        "/__admin/view/applications/1/customers?integration_id=User1",
    )
    .await;
    assert!(miss.contains("No customer User1; user1 exists."), "{miss}");
    assert!(!miss.contains("1 customer"), "{miss}");
    let hit = page_text(
        &fake,
        "/__admin/view/applications/1/customers?integration_id=user1",
    )
    .await;
    assert!(hit.contains("1 customer"), "{hit}");
    assert!(!hit.contains("No customer"), "{hit}");
    let none = page_text(
        &fake,
        "/__admin/view/applications/1/customers?integration_id=nobody",
    )
    .await;
    assert!(none.contains("No customer nobody."), "{none}");
    assert!(!none.contains("exists"), "{none}");
}

#[tokio::test]
async fn an_id_whose_every_update_was_rejected_has_no_profile_but_its_requests_are_named() {
    let fake = traffic().await;
    let bad = update(
        &fake,
        "/v2/customer_profiles/ghost",
        json!({"attributes": {"Email": "g@example.com"}}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let (_, html) = view(
        &fake,
        "/__admin/view/applications/1/customers?integration_id=ghost",
    )
    .await;
    let text = text_content(&html);
    assert!(
        text.contains("No customer ghost. 1 request in the journal name ghost (0 accepted): a customer whose every update was rejected has no profile."),
        "{text}"
    );
    assert!(
        html.contains(r#"href="/__admin/view/journal?integration_id=ghost""#),
        "{html}"
    );
    let (status, page) = view(&fake, "/__admin/view/applications/1/customers/ghost").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        text_content(&page).contains("1 request in the journal name it (0 accepted)"),
        "{page}"
    );
}

#[tokio::test]
async fn the_hint_links_to_the_near_miss_with_its_id_percent_encoded() {
    let fake = traffic().await;
    let (_, html) = view(
        &fake,
        "/__admin/view/applications/1/customers?integration_id=U-2%2FB",
    )
    .await;
    assert!(
        html.contains(r#"href="/__admin/view/applications/1/customers/u-2%2Fb""#),
        "{html}"
    );
    let page = page_text(&fake, "/__admin/view/applications/1/customers/u-2%2Fb").await;
    assert!(page.contains("Profile ID"), "{page}");
}

#[tokio::test]
async fn the_attributes_tab_shows_each_value_with_its_catalog_type() {
    let fake = traffic().await;
    insta::assert_snapshot!(
        page_text(
            &fake,
            "/__admin/view/applications/1/customers/user1?tab=attributes"
        )
        .await
    );
}

#[tokio::test]
async fn the_audiences_tab_shows_the_memberships() {
    let fake = traffic().await;
    let text = page_text(
        &fake,
        "/__admin/view/applications/1/customers/user1?tab=audiences",
    )
    .await;
    assert!(text.contains("| Segment demo audience | 1"), "{text}");
    let other = page_text(
        &fake,
        "/__admin/view/applications/1/customers/u-2%2Fb?tab=audiences",
    )
    .await;
    assert!(other.contains("Not in any audience."), "{other}");
}

#[tokio::test]
async fn the_history_tab_shows_the_rejection_its_rule_pointer_reason_and_what_it_would_have_changed()
 {
    let fake = traffic().await;
    insta::assert_snapshot!(
        page_text(
            &fake,
            "/__admin/view/applications/1/customers/user1?tab=history"
        )
        .await
    );
}

#[tokio::test]
async fn the_catalog_puts_names_equal_but_for_case_side_by_side() {
    let mut state = StateFile::default_state();
    let mut twin = state
        .attributes
        .iter()
        .find(|a| a.name == "plan")
        .cloned()
        .expect("plan");
    twin.id = 9_001;
    twin.name = "Plan".into();
    twin.title = "Plan (a twin)".into();
    state.attributes.push(twin);
    let fake = Fake::new(state, FakeConfig::default()).expect("state loads");
    let (_, html) = view(&fake, "/__admin/view/attributes").await;
    let text = text_content(&html);
    let plan = text
        .lines()
        .position(|l| l.contains("| plan differs only by case from Plan |"))
        .expect(&text);
    assert!(
        text.lines()
            .nth(plan - 1)
            .is_some_and(|l| l.contains("| Plan differs only by case from plan |")),
        "{text}"
    );
    assert_eq!(html.matches(r#"class="near-miss""#).count(), 2, "{html}");
    insta::assert_snapshot!(page_text(&fake, "/__admin/view/attributes").await);
}

#[tokio::test]
async fn the_audiences_page_counts_members() {
    let fake = traffic().await;
    let text = page_text(&fake, "/__admin/view/audiences").await;
    assert!(
        text.contains("| 1 | Segment demo audience | segment | 1"),
        "{text}"
    );
}

#[tokio::test]
async fn the_journal_filters_by_status_rule_customer_and_path() {
    let fake = traffic().await;
    insta::assert_snapshot!(page_text(&fake, "/__admin/view/journal").await);
    let rejected = page_text(&fake, "/__admin/view/journal?status=4xx").await;
    assert!(rejected.contains("1 of 4 requests"), "{rejected}");
    assert!(
        rejected.contains("| 400 | attribute.unknown | user1"),
        "{rejected}"
    );
    let by_rule = page_text(&fake, "/__admin/view/journal?rule=attribute.unknown").await;
    assert!(by_rule.contains("1 of 4 requests"), "{by_rule}");
    let by_customer = page_text(&fake, "/__admin/view/journal?integration_id=user1").await;
    assert!(by_customer.contains("3 of 4 requests"), "{by_customer}");
    let by_path = page_text(&fake, "/__admin/view/journal?path=customer_audiences").await;
    assert!(by_path.contains("1 of 4 requests"), "{by_path}");
}

#[tokio::test]
async fn the_live_journal_reloads_itself_without_javascript() {
    let fake = traffic().await;
    let (_, live) = view(&fake, "/__admin/view/journal?live=on").await;
    assert!(
        live.contains(r#"<meta http-equiv="refresh" content="2">"#),
        "{live}"
    );
    let (_, still) = view(&fake, "/__admin/view/journal").await;
    assert!(!still.contains("http-equiv"), "{still}");
}

#[tokio::test]
async fn a_page_updates_as_traffic_arrives() {
    let fake = traffic().await;
    let before = page_text(&fake, "/__admin/view/journal").await;
    assert!(before.contains("4 of 4 requests"), "{before}");
    update(
        &fake,
        "/v2/customer_profiles/user3",
        json!({"attributes": {"name": "Cy"}}),
    )
    .await;
    let after = page_text(&fake, "/__admin/view/journal").await;
    assert!(after.contains("5 of 5 requests"), "{after}");
}

#[tokio::test]
async fn the_view_is_never_journalled() {
    let fake = traffic().await;
    let before = fake.journal().len();
    for path in [
        "/__admin/view/",
        "/__admin/view/applications/1/customers",
        "/__admin/view/journal",
        "/__admin/view/nope",
    ] {
        view(&fake, path).await;
    }
    assert_eq!(fake.journal().len(), before);
}

#[tokio::test]
async fn unknown_pages_applications_customers_and_tabs_get_an_html_404() {
    let fake = traffic().await;
    for (path, says) in [
        ("/__admin/view/nope", "The view has no such page."),
        (
            "/__admin/view/applications/9/customers",
            "There is no application with ID 9.",
        ),
        (
            "/__admin/view/applications/x/customers",
            "There is no application with ID x.",
        ),
        (
            "/__admin/view/applications/1/customers/User1",
            r#"Application 1 has no customer with integration ID "User1""#,
        ),
        (
            "/__admin/view/applications/1/customers/user1?tab=coupons",
            "the tabs attributes, audiences and history",
        ),
    ] {
        let (status, html) = view(&fake, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(text_content(&html).contains(says), "{path}: {html}");
    }
}

#[tokio::test]
async fn pages_are_html_that_loads_nothing_and_runs_nothing() {
    let fake = traffic().await;
    let resp = talon_fake::router(fake.clone());
    let req = axum::http::Request::builder()
        .uri("/__admin/view/")
        .body(axum::body::Body::empty())
        .expect("request");
    let resp = tower::ServiceExt::oneshot(resp, req)
        .await
        .expect("infallible");
    let h = resp.headers();
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    let csp = h["content-security-policy"].to_str().expect("ascii");
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    for path in [
        "/__admin/view/",
        "/__admin/view/applications/1/customers",
        "/__admin/view/applications/1/customers/user1?tab=history",
        "/__admin/view/attributes",
        "/__admin/view/audiences",
        "/__admin/view/journal?live=on",
    ] {
        let (_, html) = view(&fake, path).await;
        for banned in ["<script", "http://", "https://", "@import", "url("] {
            assert!(!html.contains(banned), "{banned} in {path}");
        }
        assert_eq!(
            html.matches("<link").count(),
            1,
            "only the empty icon: {path}"
        );
        assert!(html.contains(r#"<html lang="en">"#), "{path}");
        assert_eq!(html.matches("<h1>").count(), 1, "{path}");
    }
}

#[tokio::test]
async fn ids_names_and_values_holding_markup_render_as_text() {
    let fake = fake();
    let id = "<script>alert(\"id\")</script>'ü";
    let encoded: String = id.bytes().map(|b| format!("%{b:02X}")).collect();
    let resp = update(
        &fake,
        &format!("/v2/customer_profiles/{encoded}"),
        json!({"attributes": {"name": "<img src=x onerror=alert(1)> & \"ü\""}}),
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.json);
    update(
        &fake,
        &format!("/v2/customer_profiles/{encoded}"),
        json!({"attributes": {"<b>bold</b>": "<i>x</i>"}}),
    )
    .await;
    for path in [
        "/__admin/view/applications/1/customers".to_owned(),
        format!("/__admin/view/applications/1/customers/{encoded}"),
        format!("/__admin/view/applications/1/customers/{encoded}?tab=history"),
        "/__admin/view/journal".to_owned(),
    ] {
        let (status, html) = view(&fake, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        for markup in ["<script>", "<img", "<b>bold", "<i>x"] {
            assert!(
                !html.contains(markup),
                "{markup} as markup in {path}: {html}"
            );
        }
        let text = text_content(&html);
        assert!(
            text.contains(id) || path.ends_with("journal"),
            "{path}: {text}"
        );
    }
    let attributes = text_content(
        &view(
            &fake,
            &format!("/__admin/view/applications/1/customers/{encoded}"),
        )
        .await
        .1,
    );
    assert!(
        attributes.contains(r#""<img src=x onerror=alert(1)> & \"ü\"""#),
        "{attributes}"
    );
}

#[tokio::test]
async fn the_customers_tab_pages_fifty_at_a_time() {
    let fake = fake();
    let attrs: serde_json::Map<String, Value> = serde_json::Map::new();
    for i in 0..120 {
        fake.upsert_profile(1, &format!("c{i:03}"), &attrs)
            .expect("valid");
    }
    let first = page_text(&fake, "/__admin/view/applications/1/customers").await;
    assert!(first.contains("120 customers, page 1 of 3"), "{first}");
    assert!(
        first.contains("| c000 |") && first.contains("| c049 |"),
        "{first}"
    );
    assert!(
        !first.contains("| c050 |") && !first.contains("Previous page"),
        "{first}"
    );
    assert!(first.contains("Next page"), "{first}");
    let last = page_text(&fake, "/__admin/view/applications/1/customers?page=3").await;
    assert!(
        last.contains("| c100 |") && last.contains("| c119 |"),
        "{last}"
    );
    assert!(
        last.contains("Previous page") && !last.contains("Next page"),
        "{last}"
    );
    let beyond = page_text(&fake, "/__admin/view/applications/1/customers?page=99").await;
    assert!(beyond.contains("page 3 of 3"), "{beyond}");
}

#[tokio::test]
async fn behind_an_admin_token_the_view_opens_with_the_token_once_then_a_cookie() {
    let config = FakeConfig {
        admin_token: Some("s3cret".into()),
        ..FakeConfig::default()
    };
    let fake = Fake::new(StateFile::default_state(), config).expect("state loads");
    let denied = call(&fake, "GET", "/__admin/view/", None, None).await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    let how = denied.json["errors"][0]["details"].as_str().unwrap_or("");
    assert!(
        how.starts_with("open /__admin/view/?token=<token> once"),
        "{how}"
    );
    let wrong = call(&fake, "GET", "/__admin/view/?token=nope", None, None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    let router = talon_fake::router(fake.clone());
    let login = axum::http::Request::builder()
        .uri("/__admin/view/journal?token=s3cret")
        .body(axum::body::Body::empty())
        .expect("request");
    let resp = tower::ServiceExt::oneshot(router.clone(), login)
        .await
        .expect("infallible");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/__admin/view/journal");
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().expect("name=value");

    let with_cookie = axum::http::Request::builder()
        .uri("/__admin/view/journal")
        .header("cookie", format!("other=1; {pair}"))
        .body(axum::body::Body::empty())
        .expect("request");
    let resp = tower::ServiceExt::oneshot(router.clone(), with_cookie)
        .await
        .expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);

    // The cookie opens the view only, not the rest of /__admin.
    let state = axum::http::Request::builder()
        .uri("/__admin/state")
        .header("cookie", pair)
        .body(axum::body::Body::empty())
        .expect("request");
    let resp = tower::ServiceExt::oneshot(router, state)
        .await
        .expect("infallible");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}
