//! A tiny JSON tree with keys in the order written and numbers kept as their source text, so the
//! generator controls exactly which bytes both sides read (key order, `1e21`, `-0`, `1.0`).

use std::fmt::Write as _;

/// A JSON value as the generator writes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum J {
    Null,
    Bool(bool),
    /// A number's source text, written verbatim (`"1e21"`, `"-0"`, `"0.1"`).
    Num(String),
    /// A string, escaped by the writer.
    Str(String),
    /// A string's already-escaped JSON content, written verbatim between quotes (`\u00e9`).
    RawStr(String),
    Arr(Vec<J>),
    /// Keys in the order written; duplicates are never generated.
    Obj(Vec<(String, J)>),
}

pub(crate) fn s(text: &str) -> J {
    J::Str(text.to_owned())
}

pub(crate) fn n(text: &str) -> J {
    J::Num(text.to_owned())
}

pub(crate) fn int(value: i64) -> J {
    J::Num(value.to_string())
}

pub(crate) fn arr<const N: usize>(items: [J; N]) -> J {
    J::Arr(items.into())
}

pub(crate) fn obj<const N: usize>(entries: [(&str, J); N]) -> J {
    J::Obj(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// `{"<name>": arg}`: a directive.
pub(crate) fn dir(name: &str, arg: J) -> J {
    J::Obj(vec![(name.to_owned(), arg)])
}

/// `{"@path": path}`.
pub(crate) fn path(p: &str) -> J {
    dir("@path", s(p))
}

impl J {
    pub(crate) fn write(&self, out: &mut String) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Num(text) => out.push_str(text),
            J::Str(text) => write_str(text, out),
            J::RawStr(text) => {
                out.push('"');
                out.push_str(text);
                out.push('"');
            }
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            J::Obj(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(key, out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

fn write_str(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
