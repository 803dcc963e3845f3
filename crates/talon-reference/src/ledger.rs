//! The expectation from a ground-truth ledger: each user's last value of each trait path, under the mapping rules.
//!
//! The ledger is a generator's (`segment_gen::Ledger`), handed in as plain
//! `(user, [(path, value)])` so that this crate depends on no generator.
//! Exact for traffic whose traits are always sendable, well typed and
//! collision-free (the generator's realistic profile): it applies rule 4's
//! key and rules 6 and 7's filter, not rule 5 or Talon.One's type check.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::destination::{rule4_key, rule6_custom_attribute};
use crate::talon::Profiles;

/// The profiles the ledger's users should have: each trait path's last
/// value under its flattened key, kept when configured (rule 6) or an
/// Engage key (rule 7). Paths whose last value is `null` are returned in
/// the second list as `user: key`: the ledger cannot say what such an
/// attribute holds (the null was dropped), so they are not expected.
pub fn expected_from_ledger<'a, U, T>(
    users: U,
    configured: &BTreeSet<String>,
    engage_keys: &BTreeSet<String>,
) -> (Profiles, Vec<String>)
where
    U: IntoIterator<Item = (&'a str, T)>,
    T: IntoIterator<Item = (&'a [String], &'a Value)>,
{
    let mut profiles = Profiles::new();
    let mut unknown = Vec::new();
    for (user, traits) in users {
        let attributes = profiles.entry(user.to_owned()).or_default();
        for (path, value) in traits {
            let key = rule4_key(path);
            if !(rule6_custom_attribute(&key, configured) || engage_keys.contains(&key)) {
                continue;
            }
            if value.is_null() {
                unknown.push(format!("{user}: {key}"));
                continue;
            }
            attributes.insert(key, value.clone());
        }
    }
    (profiles, unknown)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn names(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn the_ledger_gives_configured_and_engage_keys_and_names_its_nulls() {
        let path = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let (city, vip, name, gone) = (
            path(&["address", "city"]),
            path(&["vip"]),
            path(&["name"]),
            path(&["email"]),
        );
        let (berlin, yes, john, null) = (json!("Berlin"), json!(true), json!("John"), Value::Null);
        let traits = vec![
            (city.as_slice(), &berlin),
            (vip.as_slice(), &yes),
            (name.as_slice(), &john),
            (gone.as_slice(), &null),
        ];
        let (profiles, unknown) = expected_from_ledger(
            [("u1", traits)],
            &names(&["address_city", "email"]),
            &names(&["vip"]),
        );
        assert_eq!(
            serde_json::to_value(&profiles).ok(),
            Some(json!({"u1": {"address_city": "Berlin", "vip": true}}))
        );
        assert_eq!(unknown, ["u1: email"]);
    }
}
