//! The expectation from a ground-truth ledger under the Actions rules: what a deployment holds
//! once the shipped default subscriptions have sent a generator's traffic, derived from what
//! the generator *meant* (its ledger), not by replaying its events.
//!
//! The ledger is handed in as plain data (users' last trait values, Track counts by user and
//! event name, the orders in the order sent, the VIP audience's last membership by user), so
//! this crate depends on no generator. The two derivations meet in the harness: the replay
//! ([`super::ActionsReference`]) reads the events, this reads the ledger, and the fake's final
//! state must equal both.
//!
//! | what the deployment holds | from the ledger | rule (`talon-actions-destination.md`) |
//! | --- | --- | --- |
//! | a profile per identified user, a Track user with a stored event, an order's user, a VIP audience Track user | users, tracks, orders, VIP members | §2.6 and §2.9: each action names the profile, the relay creates it when missing |
//! | its attributes: each top-level trait's last value that the catalog has (nested traits and unknown names skipped) | users' trait paths of one segment | §2.6 (no flattening, `skipNonExistingAttributes`) |
//! | audience 1 when the last VIP Track was `Audience Entered` | the VIP audience's members | the shipped VIP subscriptions (`addAudienceIds`/`deleteAudienceIds`: `[1]`) |
//! | one stored event per Track of a known type but `Audience Entered`/`Exited` | tracks by name, exact case | §2.9, §4.2 |
//! | a closed session per `Order Completed` with an `order_id`, its cart items | orders | §2.11, §4.2 |
//!
//! Exact for traffic whose trait values always fit the catalog and are never `null` (the
//! generator's realistic profile): Talon.One refuses a whole update over one such value, so the
//! last value alone cannot say what the profile holds. Such values, and Track names the ledger
//! cannot attribute (an `Audience Entered` spelled in another case), are returned as problems
//! instead of guessed. A userId is in the path only of a profile update: one whose unencoded
//! path lands on another profile ([`super::route`]) makes that profile
//! [`ActionsState::unpredictable`], as in the replay; events and sessions carry the profile id
//! in their body, so they reach the user's own profile whatever it holds.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{ActionsCatalog, ActionsState, Route, StoredSession, cart_items, route};
use crate::talon::{MAX_INTEGRATION_ID_CHARS, fits};

/// The names of Engage's audience Track calls: the default Track subscription leaves them out.
const AUDIENCE_TRACKS: [&str; 2] = ["Audience Entered", "Audience Exited"];

/// One `Order Completed` Track as the ledger records it.
#[derive(Debug, Clone, Copy)]
pub struct LedgerOrder<'a> {
    /// `properties.order_id`, when sent.
    pub order_id: Option<&'a str>,
    /// The `userId`, when a logged-in user ordered.
    pub user_id: Option<&'a str>,
    /// The `event` as sent (`None` for a Track without one).
    pub event: Option<&'a str>,
    /// `properties.products` as sent.
    pub products: &'a [Value],
}

/// The deployment a ledger implies, built one ledger part at a time; [`Self::finish`] gives
/// it with the problems that kept parts of it from being predicted.
#[derive(Debug, Clone)]
pub struct LedgerExpectation {
    catalog: ActionsCatalog,
    state: ActionsState,
    problems: Vec<String>,
}

impl LedgerExpectation {
    /// An empty expectation against `catalog`.
    pub fn new(catalog: ActionsCatalog) -> Self {
        Self {
            catalog,
            state: ActionsState::default(),
            problems: Vec::new(),
        }
    }

    /// The profile id a ledger user reaches, when it reaches its own (see [`route`]).
    fn own_profile(&mut self, user: &str) -> Option<String> {
        match route(user) {
            Route::Id(routed, true) if routed == user => {
                (user.chars().count() <= MAX_INTEGRATION_ID_CHARS).then(|| user.to_owned())
            }
            Route::Id(routed, _) => {
                self.state.unpredictable.insert(routed);
                None
            }
            Route::Nowhere => None,
        }
    }

    /// An identified user and each trait path's last value.
    pub fn identified<'a, T>(&mut self, user: &str, traits: T)
    where
        T: IntoIterator<Item = (&'a [String], &'a Value)>,
    {
        let Some(id) = self.own_profile(user) else {
            return;
        };
        let mut attributes = Map::new();
        for (path, value) in traits {
            let [name] = path else {
                // Nested: its top-level object is no attribute, skipped.
                continue;
            };
            let Some(ty) = self.catalog.profile.get(name) else {
                continue;
            };
            if !fits(*ty, value) {
                let what = if value.is_null() {
                    "null"
                } else {
                    "a value of another type"
                };
                self.problems.push(format!(
                    "ledger holds {what} for {user}: `{name}`, which Talon.One refuses with the whole update"
                ));
                continue;
            }
            attributes.insert(name.clone(), value.clone());
        }
        self.state
            .profiles
            .entry(id)
            .or_default()
            .extend(attributes);
    }

    /// A user's Track calls by event name as sent.
    pub fn tracks<'a, N>(&mut self, user: &str, by_name: N)
    where
        N: IntoIterator<Item = (&'a str, u64)>,
    {
        let by_name: Vec<(&str, u64)> = by_name.into_iter().collect();
        for (name, _) in &by_name {
            if !AUDIENCE_TRACKS.contains(name)
                && AUDIENCE_TRACKS.iter().any(|a| a.eq_ignore_ascii_case(name))
            {
                self.problems.push(format!(
                    "ledger holds a `{name}` Track for {user}: the VIP subscriptions' trigger is exact, so its audience cannot be told"
                ));
            }
        }
        let stored: Vec<(&str, u64)> = by_name
            .into_iter()
            .filter(|(name, n)| {
                *n > 0
                    && !AUDIENCE_TRACKS.contains(name)
                    && self.catalog.event_types.contains(*name)
            })
            .collect();
        if stored.is_empty() {
            return;
        }
        // The event names its profile in the body (`customerProfileId`), not in the path.
        let id = user.to_owned();
        self.state.profiles.entry(id.clone()).or_default();
        for (name, n) in stored {
            *self
                .state
                .events
                .entry((id.clone(), name.to_owned()))
                .or_default() += n;
        }
    }

    /// One `Order Completed`, in the order sent.
    pub fn order(&mut self, order: LedgerOrder<'_>) {
        if order.event != Some("Order Completed") {
            return;
        }
        let Some(session_id) = order.order_id.filter(|id| !id.is_empty()) else {
            return;
        };
        if route(session_id) != Route::Id(session_id.to_owned(), true) {
            return;
        }
        let Ok(items) = cart_items(order.products) else {
            return;
        };
        // The session names its profile in the body (`profileId`); its own id is the path's.
        let profile = order.user_id.unwrap_or_default().to_owned();
        if self
            .state
            .sessions
            .get(session_id)
            .is_some_and(|s| s.profile_id != profile)
        {
            return;
        }
        if !profile.is_empty() {
            self.state.profiles.entry(profile.clone()).or_default();
        }
        self.state.sessions.insert(
            session_id.to_owned(),
            StoredSession {
                profile_id: profile,
                state: "closed".into(),
                cart_items: items,
            },
        );
    }

    /// The membership of the VIP audience the last `Audience Entered` (`true`) or `Exited`
    /// Track of `user` sent.
    pub fn vip_membership(&mut self, user: &str, member: bool) {
        let Some(id) = self.own_profile(user) else {
            return;
        };
        self.state.profiles.entry(id.clone()).or_default();
        let memberships = self.state.audiences.entry(id).or_default();
        if member && self.catalog.audiences.contains(&super::VIP_AUDIENCE_ID) {
            memberships.insert(super::VIP_AUDIENCE_ID);
        } else {
            memberships.remove(&super::VIP_AUDIENCE_ID);
        }
    }

    /// The deployment's expected state, and what the ledger could not predict.
    pub fn finish(self) -> (ActionsState, Vec<String>) {
        (self.state, self.problems)
    }
}

/// Track counts by user as a generator's ledger keeps them, for [`LedgerExpectation::tracks`].
pub fn by_name(tracks: &BTreeMap<String, u64>) -> impl Iterator<Item = (&str, u64)> {
    tracks.iter().map(|(name, n)| (name.as_str(), *n))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::super::tests::catalog;
    use super::*;

    fn path(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn identified_users_hold_their_top_level_traits_the_catalog_has() {
        let (email, city, plan) = (
            path(&["email"]),
            path(&["address", "city"]),
            path(&["plan"]),
        );
        let (a, berlin, pro) = (json!("a@b.c"), json!("Berlin"), json!("pro"));
        let mut expected = LedgerExpectation::new(catalog());
        expected.identified(
            "u1",
            [
                (email.as_slice(), &a),
                (city.as_slice(), &berlin),
                (plan.as_slice(), &pro),
            ],
        );
        let (state, problems) = expected.finish();
        assert_eq!(
            Value::Object(state.profiles["u1"].clone()),
            json!({"email": "a@b.c"})
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_value_talon_one_refuses_is_a_problem_not_a_guess() {
        let (email, logins) = (path(&["email"]), path(&["logins"]));
        let (null, seven) = (Value::Null, json!("7"));
        let mut expected = LedgerExpectation::new(catalog());
        expected.identified(
            "u1",
            [(email.as_slice(), &null), (logins.as_slice(), &seven)],
        );
        let (_, problems) = expected.finish();
        assert_eq!(
            problems,
            [
                "ledger holds null for u1: `email`, which Talon.One refuses with the whole update",
                "ledger holds a value of another type for u1: `logins`, which Talon.One refuses with the whole update"
            ]
        );
    }

    #[test]
    fn tracks_of_known_types_are_stored_events_and_audience_tracks_are_not() {
        let tracks: BTreeMap<String, u64> = [
            ("Order Completed".to_owned(), 2),
            ("order completed".to_owned(), 1),
            ("Audience Entered".to_owned(), 1),
            ("Product Viewed".to_owned(), 3),
        ]
        .into();
        let mut expected = LedgerExpectation::new(catalog());
        expected.tracks("u1", by_name(&tracks));
        expected.tracks("u2", by_name(&[("Product Viewed".to_owned(), 1)].into()));
        let (state, problems) = expected.finish();
        assert_eq!(
            state.events,
            [(("u1".to_owned(), "Order Completed".to_owned()), 2)].into()
        );
        assert!(state.profiles.contains_key("u1"));
        assert!(
            !state.profiles.contains_key("u2"),
            "an event refused for its type creates no profile"
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn an_audience_track_in_another_case_is_a_problem() {
        let mut expected = LedgerExpectation::new(catalog());
        expected.tracks("u1", [("audience entered", 1)]);
        assert_eq!(expected.finish().1.len(), 1);
    }

    #[test]
    fn orders_close_sessions_with_their_cart_items_and_vip_tracks_set_audience_1() {
        let products = [json!({"sku": "s1", "quantity": 2, "price": 3.5})];
        let bad = [json!({"sku": "s1", "quantity": 0})];
        let mut expected = LedgerExpectation::new(catalog());
        let order = |id, user, event, products| LedgerOrder {
            order_id: Some(id),
            user_id: user,
            event,
            products,
        };
        expected.order(order("o1", Some("u1"), Some("Order Completed"), &products));
        expected.order(order("o2", Some("u1"), Some("order completed"), &products));
        expected.order(order("o3", Some("u1"), Some("Order Completed"), &bad));
        expected.order(order("o4", None, Some("Order Completed"), &products));
        expected.vip_membership("u2", true);
        expected.vip_membership("u3", false);
        let (state, _) = expected.finish();
        let keys: Vec<&String> = state.sessions.keys().collect();
        assert_eq!(keys, ["o1", "o4"]);
        assert_eq!(
            state.sessions["o1"],
            StoredSession {
                profile_id: "u1".into(),
                state: "closed".into(),
                cart_items: 1
            }
        );
        assert_eq!(state.sessions["o4"].profile_id, "");
        assert_eq!(state.audiences["u2"], BTreeSet::from([1]));
        assert!(state.audiences["u3"].is_empty());
        assert!(state.profiles.contains_key("u3"));
    }

    #[test]
    fn a_misrouting_user_id_misroutes_profile_updates_only() {
        let email = path(&["email"]);
        let a = json!("a@b.c");
        let mut expected = LedgerExpectation::new(catalog());
        expected.identified("u#5", [(email.as_slice(), &a)]);
        expected.identified("team/5", [(email.as_slice(), &a)]);
        let (state, _) = expected.clone().finish();
        assert!(state.profiles.is_empty());
        assert_eq!(state.unpredictable, BTreeSet::from(["u".to_owned()]));
        expected.tracks("team/5", [("Product Added", 2)]);
        let products = [json!({"sku": "s1", "quantity": 1})];
        expected.order(LedgerOrder {
            order_id: Some("o1"),
            user_id: Some("team/5"),
            event: Some("Order Completed"),
            products: &products,
        });
        let (state, _) = expected.finish();
        assert_eq!(
            state.events,
            [(("team/5".to_owned(), "Product Added".to_owned()), 2)].into()
        );
        assert_eq!(state.sessions["o1"].profile_id, "team/5");
    }
}
