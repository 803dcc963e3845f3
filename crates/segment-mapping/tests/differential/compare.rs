//! The comparison: the same lines through Segment's code and through this crate, byte for byte.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::catch_unwind;

use crate::generator::Case;
use crate::node;

/// One line where the two sides answer differently.
#[derive(Debug)]
pub(crate) struct Difference {
    pub(crate) mode: &'static str,
    pub(crate) family: &'static str,
    pub(crate) why: Option<String>,
    pub(crate) input: String,
    pub(crate) segment: String,
    pub(crate) rust: String,
}

/// What this crate answers for `line` in `mode`; a panic is an answer too (and a bug).
fn rust_line(mode: &str, line: &str) -> String {
    let answer = catch_unwind(|| {
        if mode == "eval" {
            segment_mapping::eval_line(line)
        } else {
            segment_mapping::validate_line(line)
        }
    });
    answer.unwrap_or_else(|_| "<segment_mapping panicked>".to_owned())
}

/// Differences shown in full (at least one per mode and family).
const SHOWN: usize = 8;

const INPUT_ERROR: &str = "{\"error\":\"input:";

/// A known, explained divergence (`divergences.ndjson`): the input, each side's exact answer and
/// why they differ. Accepted while both sides still answer exactly so.
#[derive(Debug)]
pub(crate) struct Known {
    pub(crate) why: String,
    pub(crate) family: &'static str,
    pub(crate) mode: String,
    pub(crate) line: String,
    pub(crate) segment: String,
    pub(crate) rust: String,
}

/// `divergences.ndjson`, one `{"why", "family", "mode", "line", "segment", "rust"}` per line.
pub(crate) fn known_divergences() -> Vec<Known> {
    const TEXT: &str = include_str!("divergences.ndjson");
    TEXT.lines()
        .enumerate()
        .map(|(i, entry)| {
            let entry: serde_json::Value = serde_json::from_str(entry)
                .unwrap_or_else(|e| panic!("divergences.ndjson:{}: not JSON: {e}", i + 1));
            let field = |name: &str| {
                entry[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("divergences.ndjson:{}: no string {name:?}", i + 1))
                    .to_owned()
            };
            let family = crate::generator::family_name(&field("family"))
                .unwrap_or_else(|| panic!("divergences.ndjson:{}: unknown family", i + 1));
            let mode = field("mode");
            assert!(
                mode == "eval" || mode == "validate",
                "divergences.ndjson:{}: mode is eval or validate",
                i + 1
            );
            Known {
                why: field("why"),
                family,
                mode,
                line: field("line"),
                segment: field("segment"),
                rust: field("rust"),
            }
        })
        .collect()
}

/// Both sides' answers for every case, in both modes.
pub(crate) fn answers(name: &str, cases: &[(Option<String>, Case)]) -> Vec<Difference> {
    let lines: Vec<String> = cases.iter().map(|(_, c)| c.line.clone()).collect();
    let input = node::write_lines(name, &lines);
    let mut all = Vec::new();
    for mode in ["eval", "validate"] {
        let segment = node::run(mode, &input).unwrap_or_else(|why| panic!("{why}"));
        assert_eq!(
            segment.len(),
            cases.len(),
            "{mode}: Segment's side gave one line per input line"
        );
        for ((why, case), segment) in cases.iter().zip(segment) {
            let rust = rust_line(mode, &case.line);
            all.push(Difference {
                mode,
                family: case.family,
                why: why.clone(),
                input: case.line.clone(),
                segment,
                rust,
            });
        }
    }
    all
}

/// Whether the two answers agree. A line Segment's side refuses as input (`{"error":"input: …"}`)
/// only needs to be refused as input by this crate too: both texts are our own.
pub(crate) fn agree(segment: &str, rust: &str) -> bool {
    if segment.starts_with(INPUT_ERROR) {
        rust.starts_with(INPUT_ERROR)
    } else {
        rust == segment
    }
}

/// Whether `rust` is `segment` with every lone surrogate that `JSON.stringify` wrote as a
/// `\udXXX` escape replaced by U+FFFD, and differs in nothing else: the one known divergence
/// accepted wherever it appears (divergences.ndjson's first line says why).
pub(crate) fn same_but_lone_surrogates(segment: &str, rust: &str) -> bool {
    let mut replaced = String::with_capacity(segment.len());
    let mut chars = segment.char_indices().peekable();
    let mut any = false;
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            replaced.push(c);
            continue;
        }
        // An escape: `\udXXX` in D800..=DFFF is a lone surrogate (JSON.stringify writes pairs as
        // the character itself); anything else, `\\` included, is copied whole.
        let hex = segment
            .get(i + 2..i + 6)
            .filter(|_| segment[i + 1..].starts_with('u'));
        match hex.and_then(|h| u16::from_str_radix(h, 16).ok()) {
            Some(unit) if (0xD800..=0xDFFF).contains(&unit) => {
                replaced.push('\u{FFFD}');
                any = true;
                for _ in 0..5 {
                    chars.next();
                }
            }
            _ => {
                replaced.push(c);
                if let Some((_, next)) = chars.next() {
                    replaced.push(next);
                }
            }
        }
    }
    any && replaced == rust
}

/// Runs `cases` (with an optional `why` each) through both sides in both modes; the answers that
/// differ. With `known` divergences: except one recorded there that both sides still answer
/// exactly as recorded, and except answers that differ only by lone surrogates.
pub(crate) fn differences(
    name: &str,
    cases: &[(Option<String>, Case)],
    known: &[Known],
) -> Vec<Difference> {
    answers(name, cases)
        .into_iter()
        .filter(|a| !agree(&a.segment, &a.rust))
        .filter(|a| {
            known.is_empty()
                || !(same_but_lone_surrogates(&a.segment, &a.rust)
                    || known.iter().any(|k| {
                        k.mode == a.mode
                            && k.line == a.input
                            && k.segment == a.segment
                            && k.rust == a.rust
                    }))
        })
        .collect()
}

/// A report of `differences` among `total` lines: the count per mode and family, then the first
/// few in full.
pub(crate) fn report(differences: &[Difference], total: usize) -> String {
    let mut per: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for d in differences {
        *per.entry((d.mode, d.family)).or_default() += 1;
    }
    let mut out = format!(
        "{} of {} answers differ from Segment's code ({} lines × eval and validate)\n",
        differences.len(),
        2 * total,
        total
    );
    for ((mode, family), count) in &per {
        let _ = writeln!(out, "  {mode:<8} {family:<16} {count}");
    }
    // The first difference of each mode and family, then the next ones, eight in all: one
    // family's many differences do not hide another's.
    let mut shown: Vec<&Difference> = Vec::new();
    for key in per.keys() {
        if let Some(first) = differences.iter().find(|d| (d.mode, d.family) == *key) {
            shown.push(first);
        }
    }
    for d in differences {
        if shown.len() >= SHOWN.max(per.len()) {
            break;
        }
        if !shown.iter().any(|s| std::ptr::eq(*s, d)) {
            shown.push(d);
        }
    }
    shown.truncate(SHOWN.max(per.len()));
    for d in &shown {
        let _ = writeln!(out, "\n{} · family {}", d.mode, d.family);
        if let Some(why) = &d.why {
            let _ = writeln!(out, "  why:     {why}");
        }
        let _ = writeln!(out, "  input:   {}", d.input);
        let _ = writeln!(out, "  segment: {}", d.segment);
        let _ = writeln!(out, "  rust:    {}", d.rust);
    }
    if differences.len() > shown.len() {
        let _ = writeln!(out, "\n… and {} more", differences.len() - shown.len());
    }
    out.push_str(
        "\nCommit a divergence first (CONTRIBUTING.md): to tests/differential/regressions.ndjson when \
         the fix follows, or to divergences.ndjson with both answers and why.\n",
    );
    out
}
