//! The classic destination: one `identify` becomes at most one
//! `PUT {applicationDomain}/v2/customer_profiles/{integrationId}` (the rules
//! table is in the crate's docs).

use segment_model::{ComputationClass, Event};

use crate::diagnostics::{Diagnostic, Kind};
use crate::flatten::{FlatValue, Scalar};
use crate::request::Request;
use crate::settings::{NearMiss, Settings, is_valid_attribute_name};
use crate::view::{Id, Personas, View};
use crate::{MAX_INTEGRATION_ID_CHARS, Mapped, Skip};

/// Maps one event given as JSON text (UTF-8 bytes). The fast path: it
/// reads only the fields the rules need and flattens traits while parsing.
///
/// JSON text is UTF-8 (RFC 8259 §8.1): an event with any other byte
/// sequence, even inside a field the rules never read, is not a readable
/// Segment event.
pub fn map_json(event: &[u8], settings: &Settings) -> Mapped {
    if let Err(bad) = std::str::from_utf8(event) {
        return Mapped::skipped(Skip::InvalidEvent {
            error: format!("not valid UTF-8 (byte {})", bad.valid_up_to() + 1),
        });
    }
    match View::from_json(event) {
        Ok(view) => map_view(view, settings),
        Err(e) => Mapped::skipped(Skip::InvalidEvent {
            error: e.to_string(),
        }),
    }
}

/// Maps one typed event. Gives the same result as [`map_json`] on the
/// event's JSON.
pub fn map_event(event: &Event, settings: &Settings) -> Mapped {
    map_view(View::from_event(event), settings)
}

fn map_view(view: View<'_>, settings: &Settings) -> Mapped {
    // Rule 1.
    match view.kind {
        None => {
            return Mapped::skipped(Skip::InvalidEvent {
                error: "missing field `type`".into(),
            });
        }
        Some(kind) if kind != "identify" => {
            return Mapped::skipped(Skip::UnsupportedType {
                event_type: kind.into_owned(),
            });
        }
        Some(_) => {}
    }
    let mut diagnostics = Vec::new();
    // Rules 2 and 3.
    let integration_id = match view.user_id {
        Id::Absent => return Mapped::skipped(Skip::AnonymousUser),
        Id::Str(id) if id.is_empty() => return Mapped::skipped(Skip::AnonymousUser),
        Id::Invalid(found) => {
            return Mapped::skipped(Skip::InvalidUserId {
                reason: format!("it is {found}, not a string"),
            });
        }
        Id::Str(id) if id == "." || id == ".." => {
            return Mapped::skipped(Skip::InvalidUserId {
                reason: format!(
                    "`{id}` cannot be a URL path segment (clients resolve it away), so no request can address this profile"
                ),
            });
        }
        Id::Str(id) => id.into_owned(),
        Id::Number(id) => {
            diagnostics.push(Diagnostic::note(Kind::NumericUserId {
                integration_id: id.clone(),
            }));
            id
        }
    };
    let chars = integration_id.chars().count();
    if chars > MAX_INTEGRATION_ID_CHARS {
        diagnostics.push(Diagnostic::warning(Kind::UserIdTooLong { chars }));
    }

    // Rule 7: which key Engage computed, if any.
    let engage = match view.personas {
        Personas::Absent => None,
        Personas::Malformed(reason) => {
            diagnostics.push(Diagnostic::warning(Kind::PersonasIgnored { reason }));
            None
        }
        Personas::Present { class, key } => match (class, key) {
            (None, _) => {
                diagnostics.push(Diagnostic::warning(Kind::PersonasIgnored {
                    reason: "no `computation_class`".into(),
                }));
                None
            }
            (Some(class), key) => match (ComputationClass::parse(&class), key) {
                (None, _) => {
                    diagnostics.push(Diagnostic::warning(Kind::PersonasIgnored {
                        reason: format!(
                            "unknown `computation_class` {class:?} (expected \"audience\" or \"trait\")"
                        ),
                    }));
                    None
                }
                (Some(_), None) => {
                    diagnostics.push(Diagnostic::warning(Kind::PersonasIgnored {
                        reason: "no `computation_key`".into(),
                    }));
                    None
                }
                (Some(_), Some(key)) if key.is_empty() => {
                    diagnostics.push(Diagnostic::warning(Kind::PersonasIgnored {
                        reason: "empty `computation_key`".into(),
                    }));
                    None
                }
                (Some(class), Some(key)) => Some((class, key)),
            },
        },
    };
    if let Some((_, key)) = &engage
        && !is_valid_attribute_name(key)
    {
        diagnostics.push(Diagnostic::warning(Kind::ComputationKeyInvalidName {
            key: key.to_string(),
        }));
    }

    // Rules 4 to 6.
    let mut flattened = view.traits.unwrap_or_default();
    diagnostics.append(&mut flattened.diagnostics);
    let mut sent = Vec::with_capacity(flattened.leaves.len());
    let mut engage_found = false;
    for leaf in &flattened.leaves {
        let key = leaf.key.as_ref();
        if let Some((class, engage_key)) = &engage
            && key == engage_key.as_ref()
        {
            engage_found = true;
            if *class == ComputationClass::Audience
                && !matches!(leaf.value, FlatValue::Scalar(Scalar::Bool(_)))
            {
                diagnostics.push(Diagnostic::warning(Kind::AudienceValueNotBoolean {
                    key: key.to_owned(),
                    found: leaf.value.json_type(),
                }));
            }
            if !settings.is_configured(key) {
                diagnostics.push(Diagnostic::note(Kind::EngageKeySent {
                    key: key.to_owned(),
                    class: class.as_str(),
                }));
            }
            sent.push(leaf);
        } else if settings.is_configured(key) {
            sent.push(leaf);
        } else {
            diagnostics.push(match settings.near_miss(key) {
                Some(NearMiss::Case(configured)) => Diagnostic::warning(Kind::CaseMismatch {
                    key: key.to_owned(),
                    configured: configured.to_owned(),
                }),
                Some(NearMiss::Dotted(configured)) => Diagnostic::warning(Kind::DottedConfigured {
                    key: key.to_owned(),
                    configured: configured.to_owned(),
                }),
                None => Diagnostic::note(Kind::NotConfigured {
                    key: key.to_owned(),
                }),
            });
        }
    }
    if let Some((_, key)) = &engage
        && !engage_found
    {
        diagnostics.push(Diagnostic::warning(Kind::ComputationKeyMissing {
            key: key.to_string(),
        }));
    }
    if let Some(source) = view.client_side
        && !sent.is_empty()
    {
        // Event-level diagnostics sort first: put them there, so the final
        // sort finds the list nearly sorted.
        diagnostics.insert(0, Diagnostic::note(Kind::ClientSideSource { source }));
    }
    // Rule 9.
    if sent.is_empty() {
        diagnostics.insert(0, Diagnostic::note(Kind::NoAttributes));
    }
    let request = Request::profile_update(settings, integration_id, &sent);
    Diagnostic::sort(&mut diagnostics);
    Mapped::sent(vec![request], diagnostics)
}
