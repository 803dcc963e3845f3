//! `Overrides`: a scenario's sizes given one by one (the command line's flags), laid over a base scenario.
//!
//! Pure, and without clap: the flags themselves are `talon-harness gen`'s and
//! `simulate`'s (`talon_harness::cmd::generate::ScenarioArgs`); reading a
//! scenario file is the harness's job too. This module keeps the one rule
//! both commands share: which field wins.

use crate::{Profile, Scenario};

/// Fields that replace a base scenario's; `None` (or `false`) keeps the base's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Realistic or edge traits and ids; with no base, also the defaults the others override.
    pub profile: Option<Profile>,
    /// Users in the population.
    pub users: Option<u32>,
    /// Simulated days.
    pub days: Option<u32>,
    /// Engage audiences.
    pub audiences: Option<u32>,
    /// Engage computed traits.
    pub computed_traits: Option<u32>,
    /// Stop after this many events.
    pub events: Option<u64>,
    /// Also send audience changes as Track `Audience Entered`/`Exited` (`false` keeps the base's choice).
    pub audience_track_events: bool,
    /// Actions traffic: [`Scenario::with_actions`] over the base (`false` keeps the base's).
    pub actions: bool,
    /// The chance per user per day of a shopping session; applied after `actions`.
    pub commerce_share: Option<f64>,
}

impl Scenario {
    /// `base` (a scenario file's content, or with none the profile's
    /// defaults) with `overrides` applied.
    pub fn with_overrides(base: Option<Self>, overrides: &Overrides) -> Self {
        let mut scenario = base
            .unwrap_or_else(|| Self::for_profile(overrides.profile.unwrap_or(Profile::Realistic)));
        if let Some(profile) = overrides.profile {
            scenario.profile = profile;
        }
        if let Some(users) = overrides.users {
            scenario.users = users;
        }
        if let Some(days) = overrides.days {
            scenario.days = days;
        }
        if let Some(audiences) = overrides.audiences {
            scenario.audiences = audiences;
        }
        if let Some(computed) = overrides.computed_traits {
            scenario.computed_traits = computed;
        }
        if overrides.events.is_some() {
            scenario.max_events = overrides.events;
        }
        if overrides.audience_track_events {
            scenario.audience_track_events = true;
        }
        if overrides.actions {
            scenario = scenario.with_actions();
        }
        if let Some(share) = overrides.commerce_share {
            scenario.daily_commerce_share = share;
        }
        scenario
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_overrides_and_no_base_give_the_realistic_defaults() {
        assert_eq!(
            Scenario::with_overrides(None, &Overrides::default()),
            Scenario::for_profile(Profile::Realistic)
        );
    }

    #[test]
    fn a_profile_without_a_base_starts_from_that_profiles_defaults() {
        let overrides = Overrides {
            profile: Some(Profile::Edge),
            days: Some(2),
            ..Overrides::default()
        };
        assert_eq!(
            Scenario::with_overrides(None, &overrides),
            Scenario {
                days: 2,
                ..Scenario::for_profile(Profile::Edge)
            }
        );
    }

    #[test]
    fn actions_turns_commerce_on_over_any_base_and_an_explicit_share_wins() {
        let actions = Overrides {
            actions: true,
            ..Overrides::default()
        };
        assert_eq!(
            Scenario::with_overrides(None, &actions),
            Scenario::actions()
        );
        let edge = Scenario {
            users: 3,
            ..Scenario::edge()
        };
        let got = Scenario::with_overrides(Some(edge.clone()), &actions);
        assert_eq!(got, edge.with_actions());
        assert_eq!((got.profile, got.users), (Profile::Edge, 3));
        let share = Overrides {
            commerce_share: Some(0.05),
            ..actions
        };
        let got = Scenario::with_overrides(None, &share);
        assert_eq!(got.daily_commerce_share, 0.05);
        assert!(got.audience_track_events);
        // Without either flag, commerce stays as the base has it.
        let base = Scenario::actions();
        assert_eq!(
            Scenario::with_overrides(Some(base.clone()), &Overrides::default()),
            base
        );
    }

    #[test]
    fn each_given_field_beats_the_base_and_the_others_keep_it() {
        let base = Scenario {
            users: 5,
            days: 9,
            audiences: 1,
            computed_traits: 1,
            max_events: Some(3),
            audience_track_events: true,
            ..Scenario::for_profile(Profile::Edge)
        };
        let overrides = Overrides {
            users: Some(7),
            events: Some(11),
            ..Overrides::default()
        };
        assert_eq!(
            Scenario::with_overrides(Some(base.clone()), &overrides),
            Scenario {
                users: 7,
                max_events: Some(11),
                ..base
            }
        );
    }
}
