//! The reports of a comparison, all from one [`DiffReport`]: text for people, Markdown for a
//! pull-request comment, JSON for machines, JUnit for CI systems.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::model::{Change, ChangeKind, DiffReport, EventComparison, Fingerprint, Group};
use crate::output::{Check, RunReport};

/// `n` with a comma every three digits: `1,204`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A value as a reader sees it: JSON, shortened past 100 characters.
fn shown(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "nothing".to_owned();
    };
    let text = match value {
        Value::String(s) if s.starts_with("GET ") || s.starts_with("PUT ") => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 100 {
        let cut: String = text.chars().take(97).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn by(fingerprint: &Fingerprint) -> String {
    fingerprint
        .subscription
        .as_deref()
        .map_or_else(String::new, |s| format!(" by `{s}`"))
}

fn named(fingerprint: &Fingerprint) -> String {
    format!("`{}`", fingerprint.attribute.as_deref().unwrap_or(""))
}

/// What a kind of difference is, in plain words, without its count.
pub fn what(fingerprint: &Fingerprint) -> String {
    let f = fingerprint;
    let rule = f.rule.as_deref().unwrap_or("");
    let sub = f.subscription.as_deref().map(|s| format!(" (`{s}`)"));
    let sub = sub.as_deref().unwrap_or("");
    match f.kind {
        ChangeKind::NowRejected => format!("now rejected{sub}: {rule}"),
        ChangeKind::NowFailed => format!("now lost (failed after retries){sub}: {rule}"),
        ChangeKind::NowSkipped => format!("request can no longer be built{sub}: {rule}"),
        ChangeKind::RequestRemoved => match &f.subscription {
            Some(s) => format!("`{s}` no longer sends its request: {rule}"),
            None => format!("no request sent any more: {rule}"),
        },
        ChangeKind::AttributeRemoved => format!("{} no longer sent{}", named(f), by(f)),
        ChangeKind::AttributeChanged => {
            format!("{} sent with another value{}", named(f), by(f))
        }
        ChangeKind::AttributeRetyped => {
            let (from, to) = rule.split_once(" -> ").unwrap_or((rule, "?"));
            format!("{} sent as a {to} instead of a {from}{}", named(f), by(f))
        }
        ChangeKind::FieldRemoved => format!("body field {} no longer sent{}", named(f), by(f)),
        ChangeKind::FieldChanged => {
            format!("body field {} sent with another value{}", named(f), by(f))
        }
        ChangeKind::FieldAdded => format!("body field {} now sent{}", named(f), by(f)),
        ChangeKind::StateAttributeLost => {
            format!("Talon.One would no longer hold {}", named(f))
        }
        ChangeKind::StateAttributeChanged => {
            format!("Talon.One would hold another value of {}", named(f))
        }
        ChangeKind::StateAttributeGained => format!("Talon.One would now hold {}", named(f)),
        ChangeKind::RequestAdded => match &f.subscription {
            Some(s) => format!("`{s}` now sends a request"),
            None => "a request now sent".to_owned(),
        },
        ChangeKind::AttributeAdded => format!("{} now sent{}", named(f), by(f)),
        ChangeKind::UrlChanged => format!("URL changed{sub}: {rule}"),
        ChangeKind::HeaderChanged => format!("header {} changed{sub}", named(f)),
        ChangeKind::NowDelivered => {
            if rule.is_empty() {
                format!("now delivered{sub}")
            } else {
                format!("now delivered{sub} (was: {rule})")
            }
        }
        ChangeKind::SkipChanged => format!("skipped for another reason: {rule}"),
        ChangeKind::WarningAdded => format!("new mapper warning `{rule}`{}", by(f)),
    }
}

/// [`what`], with the explanation in place of the rule where a person reads it better (a
/// rejection, a loss, why a request is not sent any more).
pub fn what_explained(fingerprint: &Fingerprint, explanation: Option<&String>) -> String {
    match (explanation, fingerprint.kind) {
        (
            Some(words),
            ChangeKind::NowRejected
            | ChangeKind::NowFailed
            | ChangeKind::NowSkipped
            | ChangeKind::RequestRemoved
            | ChangeKind::SkipChanged,
        ) => what(&Fingerprint {
            rule: Some(words.clone()),
            ..fingerprint.clone()
        }),
        _ => what(fingerprint),
    }
}

/// How many of how many: `1,204 of 5,000 events`, or profiles for the final state.
pub fn count(group: &Group, report: &DiffReport) -> String {
    if group.fingerprint.kind.is_state() {
        format!(
            "{} of {} profiles",
            thousands(group.count),
            thousands(report.profiles)
        )
    } else {
        format!(
            "{} of {} events",
            thousands(group.count),
            thousands(report.events)
        )
    }
}

/// A kind of difference as one sentence: "`address_city` no longer sent for 1,204 of 5,000
/// events", "37 of 5,000 events now rejected by Talon.One: Talon.One rejected `Email`: …".
pub fn sentence(group: &Group, report: &DiffReport) -> String {
    let f = &group.fingerprint;
    let counted = count(group, report);
    let mut line = match f.kind {
        ChangeKind::NowRejected
        | ChangeKind::NowFailed
        | ChangeKind::NowSkipped
        | ChangeKind::NowDelivered
        | ChangeKind::SkipChanged => {
            format!(
                "{counted} {}",
                what_explained(f, group.explanation.as_ref())
            )
        }
        ChangeKind::RequestRemoved => {
            let why = group
                .explanation
                .as_deref()
                .or(f.rule.as_deref())
                .unwrap_or("");
            match &f.subscription {
                Some(s) => format!("`{s}` no longer sends its request for {counted}: {why}"),
                None => format!("no request sent any more for {counted}: {why}"),
            }
        }
        ChangeKind::WarningAdded => match &group.explanation {
            Some(words) => format!("{} for {counted}, e.g. {words}", what(f)),
            None => format!("{} for {counted}", what(f)),
        },
        _ => format!("{} for {counted}", what(f)),
    };
    if let Some(example) = group.examples.first()
        && matches!(
            f.kind,
            ChangeKind::AttributeChanged
                | ChangeKind::AttributeRetyped
                | ChangeKind::FieldChanged
                | ChangeKind::StateAttributeChanged
                | ChangeKind::UrlChanged
        )
    {
        let _ = write!(
            line,
            " (e.g. {}: {} -> {})",
            example.at,
            shown(example.before.as_ref()),
            shown(example.after.as_ref())
        );
    }
    line
}

/// One change of one event, in plain words.
pub fn change_line(change: &Change) -> String {
    let f = &change.fingerprint;
    let values = match f.kind {
        ChangeKind::AttributeRemoved | ChangeKind::FieldRemoved => {
            format!(" (was {})", shown(change.before.as_ref()))
        }
        ChangeKind::AttributeAdded | ChangeKind::FieldAdded => {
            format!(": {}", shown(change.after.as_ref()))
        }
        ChangeKind::AttributeChanged
        | ChangeKind::AttributeRetyped
        | ChangeKind::FieldChanged
        | ChangeKind::UrlChanged
        | ChangeKind::HeaderChanged => format!(
            ": {} -> {}",
            shown(change.before.as_ref()),
            shown(change.after.as_ref())
        ),
        _ => String::new(),
    };
    let head = match (&change.explanation, f.kind) {
        (Some(words), ChangeKind::WarningAdded) => format!("{}: {words}", what(f)),
        (explanation, _) => what_explained(f, explanation.as_ref()),
    };
    format!("{head}{values}")
}

/// One attribute of one profile's final state, in plain words.
pub fn state_line(change: &Change) -> String {
    let name = change.fingerprint.attribute.as_deref().unwrap_or("?");
    match change.fingerprint.kind {
        ChangeKind::StateAttributeLost => format!(
            "`{name}` no longer held (was {})",
            shown(change.before.as_ref())
        ),
        ChangeKind::StateAttributeGained => {
            format!("`{name}` now held: {}", shown(change.after.as_ref()))
        }
        _ => format!(
            "`{name}`: {} -> {}",
            shown(change.before.as_ref()),
            shown(change.after.as_ref())
        ),
    }
}

fn mark(group: &Group) -> &'static str {
    if group.fails() {
        "FAIL"
    } else if group.regressions > 0 {
        "ok  "
    } else {
        "    "
    }
}

fn event_head(event: &EventComparison) -> String {
    let who = event
        .profile
        .as_deref()
        .map_or_else(String::new, |p| format!(" (profile `{p}`)"));
    let outcome = if event.before == event.after {
        event.after.clone()
    } else {
        format!("{} -> {}", event.before, event.after)
    };
    format!("{}{who}: {outcome}", event.source)
}

/// How many of [`checks`] are about the run as a whole (the rest: one per kind of difference).
const RUN_CHECKS: usize = 4;

/// The checks of the comparison, as JUnit test cases and the text's last lines: every event
/// compared, every line readable, none lost, and one per kind of difference (failing when it is
/// a regression no accept file lists).
pub fn checks(report: &DiffReport) -> Vec<Check> {
    let mut checks = vec![Check::from_details(
        "every event has exactly one comparison",
        if report.adds_up() {
            Vec::new()
        } else {
            vec![format!(
                "{} events, {} outcomes before, {} after",
                report.events, report.before.events, report.after.events
            )]
        },
    )];
    let mut unreadable = report.before.unreadable_examples.clone();
    if report.before.unreadable > unreadable.len() as u64 {
        unreadable.push(format!(
            "{} unreadable lines in all",
            report.before.unreadable
        ));
    }
    checks.push(Check::from_details(
        "every input line is a readable Segment event",
        unreadable,
    ));
    let mut lost: Vec<String> = Vec::new();
    for (side, summary) in [("before", &report.before), ("after", &report.after)] {
        lost.extend(
            summary
                .failed_examples
                .iter()
                .map(|e| format!("{side}: {e}")),
        );
    }
    checks.push(Check::from_details(
        "no event was lost on either side (none failed after retries)",
        lost,
    ));
    let mut blind = Vec::new();
    if report.blind() {
        blind.push(
            "no event was delivered before or after the change: the comparison cannot see what it does to delivered data (does the Talon.One state know the settings' key and deployment? give --talon-state)".to_owned(),
        );
        blind.extend(
            report
                .before
                .rejected_by_reason
                .iter()
                .map(|(reason, n)| format!("{n} rejected before: {reason}")),
        );
    }
    checks.push(Check::from_details(
        "Talon.One accepted events on at least one side",
        blind,
    ));
    for group in &report.groups {
        let mut details = Vec::new();
        if group.fails() {
            details.push(sentence(group, report));
            details.extend(group.examples.iter().map(|e| format!("e.g. {}", e.at)));
        }
        checks.push(Check {
            name: format!(
                "{}: {}",
                group.fingerprint.kind.name(),
                what(&group.fingerprint)
            ),
            passed: !group.fails(),
            details,
        });
    }
    checks
}

/// Which groups a section of the text shows.
type Pick = fn(&Group) -> bool;

/// The report for people.
pub fn text(report: &DiffReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "compared   {} events under both configurations: {} changed, {} unchanged; {} profiles in the final states",
        thousands(report.events),
        thousands(report.changed_events),
        thousands(report.unchanged_events()),
        thousands(report.profiles)
    );
    for (side, s) in [("before", &report.before), ("after ", &report.after)] {
        let _ = writeln!(
            out,
            "{side}     delivered {}, rejected {}, skipped {}, failed {}",
            thousands(s.delivered),
            thousands(s.rejected),
            thousands(s.skipped),
            thousands(s.failed)
        );
    }
    if report.groups.is_empty() {
        out.push_str("no change: every event gives the same requests and the same answers\n");
    }
    let sections: [(&str, Pick); 3] = [
        ("regressions", |g| {
            g.regressions > 0 && !g.fingerprint.kind.is_state()
        }),
        ("other changes", |g| {
            g.regressions == 0 && !g.fingerprint.kind.is_state()
        }),
        ("final state (what Talon.One would hold at the end)", |g| {
            g.fingerprint.kind.is_state()
        }),
    ];
    for (title, pick) in sections {
        let groups: Vec<&Group> = report.groups.iter().filter(|g| pick(g)).collect();
        if groups.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}:");
        for group in groups {
            let accepted = if group.accepted { " (accepted)" } else { "" };
            let _ = writeln!(out, "{} {}{accepted}", mark(group), sentence(group, report));
        }
    }
    if !report.examples.is_empty() {
        let _ = writeln!(
            out,
            "\nchanged events (the first {} of {}):",
            report.examples.len(),
            thousands(report.changed_events)
        );
        for event in &report.examples {
            let _ = writeln!(out, "  {}", event_head(event));
            for change in &event.changes {
                let _ = writeln!(out, "      {}", change_line(change));
            }
        }
    }
    if !report.profile_examples.is_empty() {
        let _ = writeln!(
            out,
            "\nchanged profiles, final state before -> after (the first {} of {}):",
            report.profile_examples.len(),
            thousands(report.changed_profiles)
        );
        for profile in &report.profile_examples {
            let _ = writeln!(out, "  profile `{}`", profile.profile);
            for change in &profile.changes {
                let _ = writeln!(out, "      {}", state_line(change));
            }
        }
    }
    for stale in &report.stale_accepted {
        let _ = writeln!(
            out,
            "note       accepted but not seen any more: {}",
            what(stale)
        );
    }
    out.push('\n');
    for check in checks(report).iter().take(RUN_CHECKS) {
        let mark = if check.passed { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "{mark} {}", check.name);
        for line in check.details.iter().take(20) {
            let _ = writeln!(out, "       {line}");
        }
    }
    let failing = report.failing().count();
    let _ = writeln!(
        out,
        "{}",
        if report.passed() {
            "result     ok: no regression that is not accepted".to_owned()
        } else if failing > 0 {
            format!(
                "result     FAIL: {failing} kind{} of regression not accepted",
                if failing == 1 { "" } else { "s" }
            )
        } else {
            "result     FAIL: the comparison is incomplete".to_owned()
        }
    );
    out
}

/// Rows of the Markdown comment's first table (regressions come first); the rest are folded.
const TABLE_ROWS: usize = 15;

/// `|` and line breaks would end a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The report as a pull-request comment: a short table first, the details folded.
pub fn markdown(report: &DiffReport) -> String {
    let mut out = String::new();
    let failing = report.failing().count();
    if report.groups.is_empty() {
        let _ = writeln!(
            out,
            "### talon-harness diff: no change\n\n{} events compared under both configurations ({} destination): the same requests, the same answers, the same final state.",
            thousands(report.events),
            report.destination
        );
    } else {
        let _ = writeln!(
            out,
            "### talon-harness diff: {} kind{} of change in {} of {} events{}",
            report.groups.len(),
            if report.groups.len() == 1 { "" } else { "s" },
            thousands(report.changed_events),
            thousands(report.events),
            match failing {
                0 => String::new(),
                1 => ", 1 regression".to_owned(),
                n => format!(", {n} regressions"),
            }
        );
        let _ = writeln!(out, "\n| | change | count |\n| --- | --- | --- |");
        for (i, group) in report.groups.iter().enumerate() {
            if i == TABLE_ROWS {
                let _ = writeln!(
                    out,
                    "\n<details>\n<summary>{} more kinds of change</summary>\n\n| | change | count |\n| --- | --- | --- |",
                    report.groups.len() - TABLE_ROWS
                );
            }
            let mark = if group.fails() {
                "❌"
            } else if group.regressions > 0 {
                "☑️ accepted"
            } else if group.fingerprint.kind.is_state() {
                "🗄️"
            } else if matches!(
                group.fingerprint.kind,
                ChangeKind::RequestAdded
                    | ChangeKind::AttributeAdded
                    | ChangeKind::FieldAdded
                    | ChangeKind::NowDelivered
            ) {
                "➕"
            } else {
                "ℹ️"
            };
            let what = what_explained(&group.fingerprint, group.explanation.as_ref());
            let _ = writeln!(
                out,
                "| {mark} | {} | {} |",
                cell(&what),
                count(group, report)
            );
        }
        if report.groups.len() > TABLE_ROWS {
            let _ = writeln!(out, "\n</details>");
        }
    }
    let _ = writeln!(
        out,
        "\n| | before | after |\n| --- | --- | --- |\n| delivered | {} | {} |\n| rejected | {} | {} |\n| skipped | {} | {} |\n| failed | {} | {} |",
        thousands(report.before.delivered),
        thousands(report.after.delivered),
        thousands(report.before.rejected),
        thousands(report.after.rejected),
        thousands(report.before.skipped),
        thousands(report.after.skipped),
        thousands(report.before.failed),
        thousands(report.after.failed),
    );
    if !report.examples.is_empty() {
        let _ = writeln!(
            out,
            "\n<details>\n<summary>Changed events (the first {} of {})</summary>\n",
            report.examples.len(),
            thousands(report.changed_events)
        );
        for event in &report.examples {
            let who = event
                .profile
                .as_deref()
                .map_or_else(String::new, |p| format!(" (profile `{}`)", cell(p)));
            let outcome = if event.before == event.after {
                event.after.clone()
            } else {
                format!("{} → {}", event.before, event.after)
            };
            let _ = writeln!(out, "- `{}`{who}: {outcome}", cell(&event.source));
            for change in &event.changes {
                let _ = writeln!(out, "  - {}", cell(&change_line(change)));
            }
        }
        let _ = writeln!(out, "\n</details>");
    }
    if !report.profile_examples.is_empty() {
        let _ = writeln!(
            out,
            "\n<details>\n<summary>Final state by profile, before → after (the first {} of {})</summary>\n",
            report.profile_examples.len(),
            thousands(report.changed_profiles)
        );
        for profile in &report.profile_examples {
            let _ = writeln!(out, "- profile `{}`", cell(&profile.profile));
            for change in &profile.changes {
                let _ = writeln!(out, "  - {}", cell(&state_line(change)));
            }
        }
        let _ = writeln!(out, "\n</details>");
    }
    let problems: Vec<Check> = checks(report)
        .into_iter()
        .take(RUN_CHECKS)
        .filter(|c| !c.passed)
        .collect();
    for check in problems {
        let _ = writeln!(out, "\n**{}**: no", check.name);
        for line in check.details.iter().take(5) {
            let _ = writeln!(out, "- {}", cell(line));
        }
    }
    out
}

/// The report for machines: the model as one JSON object.
pub fn to_json(report: &DiffReport) -> Value {
    json!({
        "command": "diff",
        "passed": report.passed(),
        "destination": report.destination,
        "events": report.events,
        "changedEvents": report.changed_events,
        "unchangedEvents": report.unchanged_events(),
        "profiles": report.profiles,
        "regressions": report.failing().count(),
        "groups": report.groups,
        "byKind": report.by_kind,
        "byAttribute": report.by_attribute,
        "examples": report.examples,
        "changedProfiles": report.changed_profiles,
        "profileExamples": report.profile_examples,
        "staleAccepted": report.stale_accepted,
        "before": report.before.to_json(),
        "after": report.after.to_json(),
        "checks": checks(report).iter().map(|c| json!({
            "name": c.name, "passed": c.passed, "details": c.details,
        })).collect::<Vec<_>>(),
    })
}

/// The report as JUnit XML: one test case per check.
pub fn junit(report: &DiffReport) -> Result<String, crate::Error> {
    let mut run = RunReport::new("diff");
    run.checks = checks(report);
    run.to_junit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Accepted, Change, EventComparison, Tally};

    fn report_with(attributes: usize) -> DiffReport {
        let mut tally = Tally::default();
        let changes = (0..attributes)
            .map(|i| {
                let mut change = Change::new(ChangeKind::AttributeRemoved);
                change.fingerprint.attribute = Some(format!("a{i:02}"));
                change.regression = true;
                change
            })
            .collect();
        tally.add(&EventComparison {
            index: 0,
            source: "e:1".into(),
            profile: Some("u|1".into()),
            before: "delivered".into(),
            after: "delivered".into(),
            changes,
        });
        let summary = crate::report::Summary {
            events: 1,
            delivered: 1,
            ..Default::default()
        };
        tally.finish("classic", 1, summary.clone(), summary, &Accepted::default())
    }

    #[test]
    fn the_markdown_table_is_short_and_folds_the_rest() {
        let markdown = markdown(&report_with(20));
        let (table, folded) = markdown
            .split_once("<summary>5 more kinds of change</summary>")
            .unwrap();
        assert_eq!(table.matches("| ❌ |").count(), 15);
        assert!(table.contains("`a14` no longer sent"));
        assert!(folded.contains("`a15` no longer sent") && folded.contains("`a19` no longer sent"));
        assert!(markdown.contains("(profile `u\\|1`)"), "{markdown}");
        let short = super::markdown(&report_with(3));
        assert!(!short.contains("more kinds of change"));
    }

    #[test]
    fn counts_read_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_204), "1,204");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
