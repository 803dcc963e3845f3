//! The rule ids the fake decides with: one enum, its journal strings, and the exhaustive list.
//!
//! Every journalled response of the fake (and every connection a fault drops) is decided by
//! exactly one [`Rule`]. Its string form ([`Rule::as_str`], `Display`, serde) is what the journal, the
//! `/__admin/journal` JSON and `RUST_LOG=talon_fake=debug` show, e.g. `attribute.unknown`;
//! other crates read it as a string. `CONTRACT.md` has a row for each id in [`Rule::ALL`], and
//! the integration test `contract` fails when one is missing or a row names an id that is not here.
//!
//! The enum, [`Rule::ALL`] and [`Rule::as_str`] are generated from one list by `rules!`, so a
//! new variant is in `ALL` and has its string by construction; the unit tests check that the
//! strings are unique and well formed.

use std::fmt;
use std::str::FromStr;

/// Defines [`Rule`], [`Rule::ALL`] and [`Rule::as_str`] from one `Variant => "id"` list.
macro_rules! rules {
    ($($variant:ident => $id:literal,)+) => {
        /// A rule the fake decides a response by (see `CONTRACT.md` for each one's behaviour).
        ///
        /// Each variant's doc is its journal id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule {
            $(#[doc = concat!("`", $id, "`")] $variant,)+
        }

        impl Rule {
            /// Every rule, in declaration order: sorted by id, then the two fallbacks
            /// (`internal`, `unknown`).
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)+];

            /// The journal id, e.g. `"attribute.unknown"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Rule::$variant => $id,)+
                }
            }
        }
    };
}

rules! {
    AdminInvalidFaults => "admin.invalid_faults",
    AdminInvalidState => "admin.invalid_state",
    AdminUnauthorized => "admin.unauthorized",
    ApplicationNotFound => "application.not_found",
    AttributeDuplicate => "attribute.duplicate",
    AttributeImmutable => "attribute.immutable",
    AttributeInvalidEntity => "attribute.invalid_entity",
    AttributeInvalidName => "attribute.invalid_name",
    AttributeInvalidSuggestions => "attribute.invalid_suggestions",
    AttributeInvalidTitle => "attribute.invalid_title",
    AttributeInvalidType => "attribute.invalid_type",
    AttributeListNotConvertible => "attribute.list_not_convertible",
    AttributeNotFound => "attribute.not_found",
    AttributeTooMany => "attribute.too_many",
    AttributeType => "attribute.type",
    AttributeTypeNotDetected => "attribute.type_not_detected",
    AttributeUnknown => "attribute.unknown",
    AudienceDuplicateApplication => "audience.duplicate_application",
    AudienceDuplicateIntegrationId => "audience.duplicate_integration_id",
    AudienceNotFound => "audience.not_found",
    AudienceUnknown => "audience.unknown",
    AudienceUnknownApplication => "audience.unknown_application",
    AuthMalformed => "auth.malformed",
    AuthMissing => "auth.missing",
    AuthUnknownKey => "auth.unknown_key",
    AuthWrongKind => "auth.wrong_kind",
    BatchTooManyAudienceActions => "batch.too_many_audience_actions",
    BatchTooManyProfiles => "batch.too_many_profiles",
    BodyContentType => "body.content_type",
    BodyInvalidField => "body.invalid_field",
    BodyInvalidUtf8 => "body.invalid_utf8",
    BodyMalformedJson => "body.malformed_json",
    BodyMissingField => "body.missing_field",
    BodyNotObject => "body.not_object",
    BodyTimeout => "body.timeout",
    BodyTooDeep => "body.too_deep",
    BodyTooLarge => "body.too_large",
    BodyUnknownField => "body.unknown_field",
    BodyUnreadable => "body.unreadable",
    CustomerNotFound => "customer.not_found",
    EventTypeUnknown => "event.type_unknown",
    FaultDropConnection => "fault.drop_connection",
    FaultLateRequest => "fault.late_request",
    FaultLateRequestApplied => "fault.late_request_applied",
    FaultRateLimit => "fault.rate_limit",
    FaultStatus => "fault.status",
    IntegrationIdInvalid => "integration_id.invalid",
    OkApplicationsListed => "ok.applications_listed",
    OkAttribute => "ok.attribute",
    OkAttributeCreated => "ok.attribute_created",
    OkAttributeUpdated => "ok.attribute_updated",
    OkAttributesListed => "ok.attributes_listed",
    OkAudienceCreated => "ok.audience_created",
    OkAudienceCustomersUpdated => "ok.audience_customers_updated",
    OkAudienceDeleted => "ok.audience_deleted",
    OkAudienceUpdated => "ok.audience_updated",
    OkAudiencesListed => "ok.audiences_listed",
    OkAuthping => "ok.authping",
    OkCustomer => "ok.customer",
    OkCustomerAudiencesUpdated => "ok.customer_audiences_updated",
    OkCustomersListed => "ok.customers_listed",
    OkMembershipsDeleted => "ok.memberships_deleted",
    OkProfileDryRun => "ok.profile_dry_run",
    OkProfileUpdated => "ok.profile_updated",
    OkProfilesUpdated => "ok.profiles_updated",
    OkRelayAudienceCreated => "ok.relay_audience_created",
    OkRelayAudienceDeleted => "ok.relay_audience_deleted",
    OkRelayAudienceUpdated => "ok.relay_audience_updated",
    OkRelayCustomerAudiencesUpdated => "ok.relay_customer_audiences_updated",
    OkRelayDeprecatedEventTracked => "ok.relay_deprecated_event_tracked",
    OkRelayDeprecatedProfileUpdated => "ok.relay_deprecated_profile_updated",
    OkRelayDeprecatedProfileV2Updated => "ok.relay_deprecated_profile_v2_updated",
    OkRelayDeprecatedSessionUpdated => "ok.relay_deprecated_session_updated",
    OkRelayEventTracked => "ok.relay_event_tracked",
    OkRelayProfileUpdated => "ok.relay_profile_updated",
    OkRelaySessionUpdated => "ok.relay_session_updated",
    PathInvalid => "path.invalid",
    ProfileConcurrentUpdates => "profile.concurrent_updates",
    QueryInvalid => "query.invalid",
    RelayCallbackHeaderInvalid => "relay.callback_header_invalid",
    RelayDeploymentInvalid => "relay.deployment_invalid",
    RelayDeploymentUnknown => "relay.deployment_unknown",
    RelayNoDeployment => "relay.no_deployment",
    RelayParallelRequests => "relay.parallel_requests",
    RelayRateLimit => "relay.rate_limit",
    ResponseContentRequiresRuleEngine => "response_content.requires_rule_engine",
    RouteMethodNotAllowed => "route.method_not_allowed",
    RouteNotFound => "route.not_found",
    SessionInvalidTransition => "session.invalid_transition",
    SessionProfileMismatch => "session.profile_mismatch",
    // The two ids without a group are for states the fake never expects: a stored profile
    // that cannot be found again in its own locked shard, and a response no rule decided
    // (a handler that attached no `Decided`). Either in a journal is a bug in the fake.
    Internal => "internal",
    Undecided => "unknown",
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is no rule id of the fake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule id {0:?}")]
pub struct UnknownRule(pub String);

impl FromStr for Rule {
    type Err = UnknownRule;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRule(s.to_owned()))
    }
}

impl serde::Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl PartialEq<str> for Rule {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Rule {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_id_is_unique() {
        let mut ids: Vec<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "two rules share an id");
    }

    #[test]
    fn every_rule_id_is_a_lowercase_group_and_name_but_the_two_fallbacks() {
        for rule in Rule::ALL {
            let id = rule.as_str();
            if matches!(rule, Rule::Internal | Rule::Undecided) {
                assert!(!id.contains('.'), "{id}");
                continue;
            }
            let parts: Vec<&str> = id.split('.').collect();
            assert_eq!(parts.len(), 2, "{id} is not group.name");
            assert!(
                parts
                    .iter()
                    .all(|p| p.starts_with(|c: char| c.is_ascii_lowercase())
                        && p.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')),
                "{id} is not lowercase snake case"
            );
        }
    }

    #[test]
    fn all_is_sorted_by_id_with_the_two_fallbacks_last() {
        let (grouped, fallbacks) = Rule::ALL.split_at(Rule::ALL.len() - 2);
        assert_eq!(fallbacks, &[Rule::Internal, Rule::Undecided]);
        assert!(
            grouped.windows(2).all(|w| w[0].as_str() < w[1].as_str()),
            "keep the rules! list sorted by id"
        );
    }

    #[test]
    fn the_string_forms_are_todays_journal_ids() {
        assert_eq!(Rule::AttributeUnknown.as_str(), "attribute.unknown");
        assert_eq!(Rule::FaultStatus.to_string(), "fault.status");
        assert_eq!(Rule::AuthMissing, "auth.missing");
        assert_eq!(Rule::ALL.len(), 92);
    }

    #[test]
    fn serde_and_from_str_round_trip_every_rule_through_its_id() {
        for rule in Rule::ALL {
            let json = serde_json::to_string(rule).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", rule.as_str()));
            let back: Result<Rule, _> = serde_json::from_str(&json);
            assert_eq!(back.ok(), Some(*rule));
            assert_eq!(rule.as_str().parse::<Rule>(), Ok(*rule));
        }
        assert_eq!(
            "attribute.Unknown".parse::<Rule>(),
            Err(UnknownRule("attribute.Unknown".to_owned()))
        );
        assert!(serde_json::from_str::<Rule>("\"nope\"").is_err());
    }
}
