//! Engage (Personas) conventions: audience keys and the `context.personas` block.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Turns an audience or computed-trait name into its key, the way this
/// project models Engage's key generation.
///
/// Segment documents only that the key is "the snake_cased version of the
/// audience name"; the exact algorithm is not public, so these rules are
/// **chosen here** and tested:
///
/// 1. A word is a maximal run of Unicode alphanumeric characters
///    ([`char::is_alphanumeric`]); every other character separates words.
/// 2. A word is also split before an uppercase letter that follows a
///    lowercase one (`firstTime` → `first`, `Time`). Letters and digits are
///    *not* split apart, so `30days` stays one word.
/// 3. Words are lowercased with Unicode's full lowercase mapping; characters
///    of the mapping that are not alphanumeric (combining marks) are dropped.
/// 4. Words are joined with `_`; the result has no leading, trailing or
///    doubled `_` and may be empty (a name with no alphanumerics).
///
/// The function is idempotent: `snake_case(snake_case(x)) == snake_case(x)`.
///
/// ```
/// use segment_model::engage::snake_case;
/// assert_eq!(snake_case("Order Completed Last 30 Days"), "order_completed_last_30_days");
/// assert_eq!(snake_case("Order Completed Last 30days"), "order_completed_last_30days");
/// assert_eq!(snake_case("firstTimeShopper"), "first_time_shopper");
/// assert_eq!(snake_case("  VIP -- Kunden (München) "), "vip_kunden_münchen");
/// ```
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    // Whether the next alphanumeric character starts a new word.
    let mut at_boundary = false;
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            at_boundary = true;
            prev_lower = false;
            continue;
        }
        let mut lower = c.to_lowercase().filter(|l| l.is_alphanumeric()).peekable();
        if lower.peek().is_none() {
            // A character whose lowercase form has no alphanumeric part.
            continue;
        }
        // An uppercase letter that really changes when lowercased starts a
        // camelCase word; one without a lowercase mapping does not, so the
        // output (which keeps it) splits the same way on a second pass.
        let camel = prev_lower && c.is_uppercase() && !c.is_lowercase() && {
            let mut l = c.to_lowercase();
            l.next() != Some(c) || l.next().is_some()
        };
        if (at_boundary || camel) && !out.is_empty() {
            out.push('_');
        }
        at_boundary = false;
        out.extend(lower);
        prev_lower = c.is_lowercase() || !c.is_uppercase();
    }
    out
}

/// `context.personas`: present on events that Engage sends for an audience,
/// a Journey step, or a computed trait.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Personas {
    /// `audience` (also used by Journeys) or `trait`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computation_class: Option<String>,
    /// `aud_###`, `tra_###` or a Journey step id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computation_id: Option<String>,
    /// The trait key that carries the value: the snake_cased audience name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computation_key: Option<String>,
    /// `spa_###`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `spa_###`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_id: Option<String>,
    /// Fields this model does not name, kept as they came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// What an Engage event computes, from `context.personas.computation_class`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComputationClass {
    /// An audience or a Journey step: the value is a membership boolean.
    Audience,
    /// A computed trait: the value is a number, string or list.
    Trait,
}

impl ComputationClass {
    /// Parses the wire value; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "audience" => Some(Self::Audience),
            "trait" => Some(Self::Trait),
            _ => None,
        }
    }

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Audience => "audience",
            Self::Trait => "trait",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_case_follows_the_documented_rules() {
        let cases = [
            (
                "Order Completed Last 30 Days",
                "order_completed_last_30_days",
            ),
            ("order_completed_last_30days", "order_completed_last_30days"),
            ("First-Time Shopper!", "first_time_shopper"),
            ("highValueUsers", "high_value_users"),
            ("HTTPServer", "httpserver"),
            ("__a__b__", "a_b"),
            ("!!!", ""),
            ("", ""),
            ("Straße Größe", "straße_größe"),
            ("İstanbul", "istanbul"),
            ("30_day_buyers", "30_day_buyers"),
        ];
        for (name, key) in cases {
            assert_eq!(snake_case(name), key, "snake_case({name:?})");
        }
    }

    #[test]
    fn snake_case_is_idempotent_over_every_char_pair() {
        // Every char after a lowercase and an uppercase ASCII letter, plus
        // every char alone: covers camel boundaries and odd case mappings.
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            for input in [
                c.to_string(),
                format!("a{c}b"),
                format!("A{c}"),
                format!("{c}A"),
            ] {
                let once = snake_case(&input);
                assert_eq!(snake_case(&once), once, "input {input:?}");
            }
        }
    }
}
