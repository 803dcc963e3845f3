//! The URL an action's request goes to: built by unencoded interpolation, then normalised as
//! Node's WHATWG URL parser does (the `url` crate implements the same standard), and what the
//! normalisation did to an id.

/// The URL as sent, and what changed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// The URL as it reaches the socket: normalised, without the fragment.
    pub url: String,
    /// Where the path starts in `url`.
    pub path_start: usize,
    /// The fragment that is never sent, if any.
    pub fragment: Option<String>,
}

/// Parses `raw` as `new URL(raw)` does and drops the fragment (never sent).
pub(crate) fn parse(raw: &str) -> Result<Parsed, String> {
    let mut url = url::Url::parse(raw).map_err(|e| format!("Invalid URL: {e}"))?;
    let fragment = url.fragment().map(str::to_owned);
    url.set_fragment(None);
    let path_start = url.as_str().len() - url.path().len() - url.query().map_or(0, |q| q.len() + 1);
    Ok(Parsed {
        url: url.into(),
        path_start,
        fragment,
    })
}

/// Whether an id, interpolated unencoded, can change the path or query: `/`, `\`, `?`, `#`,
/// a `.`/`..` segment, or white space (tab, newline and CR are deleted, spaces encoded or
/// trimmed).
pub(crate) fn id_changes_path(id: &str) -> bool {
    id.chars()
        .any(|c| matches!(c, '/' | '\\' | '?' | '#') || c.is_whitespace() || c.is_control())
        || id == "."
        || id == ".."
        || id.eq_ignore_ascii_case("%2e")
        || id.eq_ignore_ascii_case("%2e%2e")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(raw: &str) -> String {
        parse(raw).unwrap().url
    }

    #[test]
    fn dot_segments_resolve_as_node_resolves_them() {
        let base = "https://integration.talon.one/segment/v2/customer_profiles/";
        assert_eq!(
            sent(&format!("{base}../x")),
            "https://integration.talon.one/segment/v2/x"
        );
        assert_eq!(
            sent(&format!("{base}..")),
            "https://integration.talon.one/segment/v2/"
        );
        assert_eq!(sent(&format!("{base}a\\b")), format!("{base}a/b"));
        assert_eq!(sent(&format!("{base}tab\tid")), format!("{base}tabid"));
        assert_eq!(sent(&format!("{base} a ")), format!("{base}%20a"));
    }

    #[test]
    fn a_hash_starts_a_fragment_that_is_not_sent() {
        let parsed = parse("https://integration.talon.one/segment/v2/customer_profiles/a#b?skipNonExistingAttributes=true").unwrap();
        assert_eq!(
            parsed.url,
            "https://integration.talon.one/segment/v2/customer_profiles/a"
        );
        assert_eq!(
            parsed.fragment.as_deref(),
            Some("b?skipNonExistingAttributes=true")
        );
        assert_eq!(
            &parsed.url[parsed.path_start..],
            "/segment/v2/customer_profiles/a"
        );
    }

    #[test]
    fn a_question_mark_starts_the_query() {
        let parsed =
            parse("https://integration.talon.one/segment/v2/customer_profiles/a?b").unwrap();
        assert_eq!(
            &parsed.url[parsed.path_start..],
            "/segment/v2/customer_profiles/a?b"
        );
    }

    #[test]
    fn ids_that_change_the_path_are_told_apart_from_plain_ones() {
        for id in [
            "a/b", "a\\b", "a?b", "a#b", "..", ".", "a b", "tab\tid", "%2E%2e",
        ] {
            assert!(id_changes_path(id), "{id}");
        }
        for id in ["user-1", "a.b", "J%C3%BC", "^[]()!*&$@"] {
            assert!(!id_changes_path(id), "{id}");
        }
    }
}
