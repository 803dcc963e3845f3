//! The string work of `@template` and `@replace`: the two-pass placeholder rendering of
//! `placeholders.ts`, and `String.prototype.replace` with a literal pattern (escaped into a
//! `RegExp` by Segment), JavaScript's `$` patterns and its non-Unicode `i` flag.

use crate::get::get_ref;
use crate::js;
use crate::value::Value;

/// `render(template, data)`: every `{{{inner}}}` replaced, then every `{{inner}}` in the result;
/// `inner` (one or more characters other than `}`) trimmed and looked up with `get`, `null` and
/// `undefined` rendered as `""` and anything else with `String()`.
/// `String()` can throw ([`js::to_string`]): then so does the rendering.
pub(crate) fn render(template: &str, data: &Value) -> Result<String, &'static str> {
    let once = replace_placeholders(template, 3, data)?;
    replace_placeholders(&once, 2, data)
}

/// One pass of `/\{{n}([^}]+)\}{n}/g` with the lookup as the replacer.
fn replace_placeholders(s: &str, n: usize, data: &Value) -> Result<String, &'static str> {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut i = 0;
    while i < bytes.len() {
        let opens = bytes
            .get(i..i + n)
            .is_some_and(|w| w.iter().all(|&b| b == b'{'));
        if opens {
            let start = i + n;
            let end = bytes.get(start..).map_or(start, |rest| {
                start + rest.iter().take_while(|&&b| b != b'}').count()
            });
            let closes = bytes
                .get(end..end + n)
                .is_some_and(|w| w.iter().all(|&b| b == b'}'));
            if end > start && closes {
                out.push_str(s.get(last..i).unwrap_or_default());
                let key = js::trim(s.get(start..end).unwrap_or_default());
                match &*get_ref(data, key) {
                    Value::Undefined | Value::Null => {}
                    v => out.push_str(&js::to_string(v)?),
                }
                i = end + n;
                last = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(s.get(last..).unwrap_or_default());
    Ok(out)
}

/// `value.replace(new RegExp(escaped(pattern), flags), replacement)` for a pattern that is
/// matched literally (Segment escapes every regular-expression character of it): the first match,
/// or every match when `global`; with `ignore_case`, code units compared by JavaScript's
/// non-Unicode `Canonicalize` (simple upper-casing of one UTF-16 code unit). `replacement` keeps
/// its `$` patterns: `$$`, `$&`, `` $` `` and `$'`; `$1` and `$<` stay as written (no groups).
pub(crate) fn replace_literal(
    value: &str,
    pattern: &str,
    replacement: &str,
    global: bool,
    ignore_case: bool,
) -> String {
    let v: Vec<u16> = value.encode_utf16().collect();
    let canon = |u: u16| if ignore_case { canonicalize(u) } else { u };
    let p: Vec<u16> = pattern.encode_utf16().map(canon).collect();
    let r: Vec<u16> = replacement.encode_utf16().collect();
    let mut out: Vec<u16> = Vec::with_capacity(v.len());
    let mut last = 0;
    let mut i = 0;
    while i + p.len() <= v.len() {
        let hit = v
            .get(i..i + p.len())
            .is_some_and(|w| w.iter().zip(&p).all(|(&a, &b)| canon(a) == b));
        if !hit {
            i += 1;
            continue;
        }
        let end = i + p.len();
        out.extend_from_slice(v.get(last..i).unwrap_or_default());
        substitute(&mut out, &r, &v, i, end);
        last = end;
        if !global {
            break;
        }
        i = if p.is_empty() { i + 1 } else { end };
    }
    out.extend_from_slice(v.get(last..).unwrap_or_default());
    String::from_utf16_lossy(&out)
}

/// `GetSubstitution` for a match `v[start..end]` of a pattern without capture groups.
fn substitute(out: &mut Vec<u16>, r: &[u16], v: &[u16], start: usize, end: usize) {
    const DOLLAR: u16 = b'$' as u16;
    let mut j = 0;
    while let Some(&c) = r.get(j) {
        if c == DOLLAR {
            match r.get(j + 1).copied() {
                Some(DOLLAR) => {
                    out.push(DOLLAR);
                    j += 2;
                    continue;
                }
                Some(0x26) => {
                    // $&
                    out.extend_from_slice(v.get(start..end).unwrap_or_default());
                    j += 2;
                    continue;
                }
                Some(0x60) => {
                    // $`
                    out.extend_from_slice(v.get(..start).unwrap_or_default());
                    j += 2;
                    continue;
                }
                Some(0x27) => {
                    // $'
                    out.extend_from_slice(v.get(end..).unwrap_or_default());
                    j += 2;
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
        j += 1;
    }
}

/// ECMAScript's `Canonicalize(ch)` without the `u` flag: the code unit upper-cased when that
/// gives exactly one code unit, unless it would map a non-ASCII unit to an ASCII one.
fn canonicalize(u: u16) -> u16 {
    let Some(c) = char::from_u32(u32::from(u)) else {
        return u; // a surrogate
    };
    let mut upper = c.to_uppercase();
    let (Some(first), None) = (upper.next(), upper.next()) else {
        return u;
    };
    let Ok(cu) = u16::try_from(u32::from(first)) else {
        return u;
    };
    if u >= 128 && cu < 128 { u } else { cu }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Value {
        Value::parse(
            r#"{"a":"{{b}}","b":"B","n":1e21,"f":0.30000000000000004,"z":-0,"t":true,
               "arr":[1,"x",null,[2,3]],"o":{},"nul":null,"d":"$&$1"}"#,
        )
        .expect("json")
    }

    fn render(template: &str, data: &Value) -> String {
        super::render(template, data).unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn an_object_that_cannot_become_a_string_throws() {
        let d = Value::parse(r#"{"o":{"toString":1}}"#).expect("json");
        assert_eq!(
            render("{{o}}", &d),
            "error: Cannot convert object to primitive value"
        );
        assert_eq!(render("{{ }}", &d), "[object Object]");
    }

    #[test]
    fn placeholders_render_with_javascript_string_conversion() {
        let d = data();
        assert_eq!(
            render(
                "{{n}} {{f}} {{z}} {{t}} {{arr}} {{o}} [{{nul}}] [{{no.pe}}]",
                &d
            ),
            "1e+21 0.30000000000000004 0 true 1,x,,2,3 [object Object] [] []"
        );
    }

    #[test]
    fn the_triple_brace_pass_is_expanded_again_by_the_double_brace_pass() {
        let d = data();
        assert_eq!(render("{{{a}}}", &d), "B");
        assert_eq!(render("{{a}}", &d), "{{b}}");
        assert_eq!(render("{{{{a}}}}", &d), "}");
        assert_eq!(render("{{b}}}", &d), "B}");
        assert_eq!(render("{{}}", &d), "{{}}");
        assert_eq!(render("{{ }}", &d), "[object Object]");
        assert_eq!(render("{{ b }} {{$.b}}", &d), "B ");
        assert_eq!(render("{{d}}", &d), "$&$1");
        assert_eq!(render("é{{b}}ü", &d), "éBü");
    }

    #[test]
    fn replace_is_literal_with_javascript_dollar_patterns() {
        assert_eq!(
            replace_literal("many+different+things", "many+", "", true, false),
            "different+things"
        );
        assert_eq!(
            replace_literal("many+different+things", "+", "_", false, false),
            "many_different+things"
        );
        assert_eq!(
            replace_literal("banana", "a", "[$&]", true, false),
            "b[a]n[a]n[a]"
        );
        assert_eq!(replace_literal("abc", "b", "$`|$'", true, false), "aa|cc");
        assert_eq!(
            replace_literal("abc", "b", "$$$1$<$", true, false),
            "a$$1$<$c"
        );
        assert_eq!(replace_literal("a.b.c", ".", "", true, false), "abc");
    }

    #[test]
    fn ignore_case_is_the_non_unicode_flag() {
        assert_eq!(replace_literal("AbA", "a", "x", true, true), "xbx");
        assert_eq!(replace_literal("ß ẞ", "ß", "x", true, true), "x ẞ");
        // U+017F (long s) upper-cases to ASCII "S": not canonicalised to it.
        assert_eq!(
            replace_literal("\u{17f}s", "s", "x", true, true),
            "\u{17f}x"
        );
        assert_eq!(replace_literal("Éé", "é", "x", true, true), "xx");
    }

    #[test]
    fn an_empty_pattern_matches_between_every_code_unit() {
        assert_eq!(replace_literal("ab", "", "-", true, false), "-a-b-");
        assert_eq!(replace_literal("ab", "", "-", false, false), "-ab");
    }
}
