//! The pieces every page shares, and that `talon-harness repro --html` reuses for its report:
//! the page shell with its embedded stylesheet, and the Attributes table.
//!
//! Everything is built with [`maud`], which escapes every interpolated value: an attribute
//! name, value or integration id holding `<script>` renders as text, never as markup. No page
//! loads anything from elsewhere (no fonts, scripts or CDNs): the machines have no internet.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::Value;

/// The stylesheet every page embeds: system fonts, readable widths, tables with headers,
/// accepted and rejected rows told apart by a word and a border, not by colour alone.
pub const STYLESHEET: &str = r#"
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6475; --bg: #ffffff; --panel: #f5f7fa;
  --line: #d9dee7; --accent: #3a4fd8; --ok: #1f7a3d; --bad: #b3261e; --warn: #8a5a00; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #a3abbb; --bg: #14171f;
  --panel: #1c2029; --line: #333a48; --accent: #8f9dff; --ok: #6fd08f; --bad: #ff8a80; --warn: #f0c060; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header.top { display: flex; gap: 1.5rem; align-items: baseline; padding: .75rem 1.5rem;
  border-bottom: 1px solid var(--line); background: var(--panel); flex-wrap: wrap; }
header.top .brand { font-weight: 700; color: var(--fg); text-decoration: none; }
header.top nav a { margin-right: 1rem; }
main { padding: 1rem 1.5rem 3rem; max-width: 80rem; }
a { color: var(--accent); }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; word-break: break-all; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .92em; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: var(--panel); font-weight: 600; }
tbody th { font-weight: 500; }
caption { text-align: left; padding: .25rem 0; }
td.value, td.mono { word-break: break-all; }
.muted { color: var(--muted); }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.warn { color: var(--warn); }
tr.rejected td:first-child { border-left: 3px solid var(--bad); }
tr.accepted td:first-child { border-left: 3px solid var(--ok); }
tr.near-miss td { background: color-mix(in srgb, var(--warn) 12%, transparent); }
form.filters, form.search { display: flex; gap: .75rem; align-items: end; flex-wrap: wrap;
  background: var(--panel); padding: .75rem; border: 1px solid var(--line); border-radius: 6px; }
form label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line);
  border-radius: 4px; background: var(--bg); color: var(--fg); }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
nav.tabs { display: flex; gap: .25rem; border-bottom: 1px solid var(--line); margin: 1rem 0; }
nav.tabs a { padding: .4rem .9rem; text-decoration: none; border: 1px solid transparent;
  border-bottom: none; border-radius: 6px 6px 0 0; }
nav.tabs a[aria-current="page"] { border-color: var(--line); background: var(--panel); color: var(--fg); font-weight: 600; }
nav.pages { display: flex; gap: 1rem; align-items: center; }
.hint { padding: .6rem .8rem; border-left: 3px solid var(--warn); background: var(--panel); }
.notice { padding: .6rem .8rem; border-left: 3px solid var(--accent); background: var(--panel); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
ul.changes { margin: .25rem 0; padding-left: 1.2rem; }
pre { background: var(--panel); padding: .6rem; overflow-x: auto; border-radius: 4px; white-space: pre-wrap; word-break: break-all; }
details > summary { cursor: pointer; }
"#;

/// A whole page: the document shell, the embedded stylesheet, a top bar with `nav` (links
/// to the other pages), then `body` inside `<main>`. `head_extra` goes into `<head>` (a
/// `<meta http-equiv="refresh">` for the live journal, for example).
pub fn page(title: &str, nav: Markup, head_extra: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                // An empty icon: the browser asks for no /favicon.ico, which would land in the
                // journal as a 404 among the destination's requests.
                link rel="icon" href="data:,";
                style { (PreEscaped(STYLESHEET)) }
                (head_extra)
            }
            body {
                (nav)
                main { (body) }
            }
        }
    }
}

/// One row of the Attributes tab: the attribute's name, its value as Talon.One holds it, and
/// its type in the catalog (`None` when the catalog has no such attribute).
#[derive(Debug, Clone, Copy)]
pub struct AttributeRow<'a> {
    /// The attribute's name, exactly as stored (case-sensitive).
    pub name: &'a str,
    /// The stored value.
    pub value: &'a Value,
    /// The catalog type (`string`, `boolean`, `(list string)`, …).
    pub ty: Option<&'a str>,
}

/// A value as the view shows it: JSON, so the string `"true"` and the boolean `true` differ
/// on the page as they do in Talon.One's type check (chosen here; the Campaign Manager shows
/// the type next to it, as the table does).
pub fn value_text(value: &Value) -> String {
    value.to_string()
}

/// The Attributes table (`<table class="attributes">`): name, value and catalog type, in
/// the order given. `caption` names the customer it belongs to, for screen readers.
pub fn attributes_table(caption: &str, rows: &[AttributeRow<'_>]) -> Markup {
    html! {
        @if rows.is_empty() {
            p.muted { "No attributes." }
        } @else {
            table.attributes {
                caption.muted { (caption) }
                thead { tr { th scope="col" { "Attribute" } th scope="col" { "Value" } th scope="col" { "Type" } } }
                tbody {
                    @for row in rows {
                        tr {
                            th scope="row" { code { (row.name) } }
                            td.value.mono { (value_text(row.value)) }
                            td { @match row.ty { Some(t) => (t), None => span.bad { "not in the catalog" } } }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attribute_names_values_and_types_render_as_text_never_as_markup() {
        let value = json!("<script>alert('x')</script> \"quoted\" & ünïcødé ✓");
        let rows = [AttributeRow {
            name: "<img src=x onerror=alert(1)>",
            value: &value,
            ty: Some("string"),
        }];
        let out = attributes_table("<b>id</b>", &rows).into_string();
        assert!(!out.contains("<script>"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(!out.contains("<b>id"), "{out}");
        assert!(
            out.contains("&lt;script&gt;alert('x')&lt;/script&gt;"),
            "{out}"
        );
        assert!(out.contains("&lt;img src=x onerror=alert(1)&gt;"), "{out}");
        // The value is shown as JSON, so its quotes are escaped twice: once by JSON, once by HTML.
        assert!(
            out.contains(r"\&quot;quoted\&quot; &amp; ünïcødé ✓"),
            "{out}"
        );
    }

    #[test]
    fn an_attribute_the_catalog_lacks_says_so_instead_of_a_type() {
        let value = json!(1);
        let rows = [AttributeRow {
            name: "gone",
            value: &value,
            ty: None,
        }];
        let out = attributes_table("c", &rows).into_string();
        assert!(out.contains("not in the catalog"), "{out}");
    }

    #[test]
    fn a_page_loads_nothing_from_elsewhere() {
        let out = page("t", html! {}, html! {}, html! { p { "x" } }).into_string();
        assert!(out.starts_with("<!DOCTYPE html>"), "{out}");
        for external in ["http://", "https://", "<script", "@import", "url("] {
            assert!(!out.contains(external), "{external} in {out}");
        }
        // The one link is the empty icon, so that browsers ask for no /favicon.ico.
        assert_eq!(out.matches("<link").count(), 1, "{out}");
        assert!(out.contains(r#"<link rel="icon" href="data:,">"#), "{out}");
    }
}
