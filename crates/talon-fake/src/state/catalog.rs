//! The [`Catalog`]'s own rules: applications, attributes (and the type check of attribute
//! values against them), audiences, and how a stored profile is shown.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::Catalog;
use crate::error::ApiError;
use crate::extract::{Res, escape_pointer};
use crate::rule::Rule;
use crate::rules::{self, AttrType, Entity};
use crate::state_file::Attribute;
use crate::store::{self, AttrIdx, FxHashMap, Profile};

/// Attributes that passed the catalog's checks (index and value), and the pointers of the
/// unknown ones that were skipped.
pub(crate) type Validated<'a> = (Vec<(AttrIdx, &'a Value)>, Vec<String>);

/// One entity's attributes by exact (case-sensitive) name: index and type.
pub(crate) type AttrIndex = FxHashMap<Box<str>, (AttrIdx, AttrType)>;

/// Which attributes a request's values are checked against: the entity, and for `Event` the
/// event type (an `Event` attribute without `eventType` applies to every event type, chosen
/// here: Talon.One's `Attribute.eventType` is optional).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope<'t> {
    /// `CustomerProfile`.
    Profile,
    /// `Event` of this event type.
    Event(&'t str),
    /// `CustomerSession`: a `null` value of a defined attribute is accepted (it deletes the
    /// attribute from the session, documented for `newCustomerSessionV2.attributes`).
    Session,
    /// `CartItem`.
    CartItem,
}

impl Scope<'_> {
    fn describe(self) -> String {
        match self {
            Self::Profile => "entity CustomerProfile".to_owned(),
            Self::Event(t) => format!("entity Event of event type {t:?}"),
            Self::Session => "entity CustomerSession".to_owned(),
            Self::CartItem => "entity CartItem".to_owned(),
        }
    }
}

impl Catalog {
    pub(crate) fn app_pos(&self, id: i64) -> Option<usize> {
        self.applications.iter().position(|a| a.id == id)
    }

    /// An audience's `subscribedApplicationsIds`: unique (OAS `uniqueItems: true`) and each an
    /// application of the deployment; 400 with a pointer at the first offending item otherwise.
    pub(crate) fn check_subscribed_applications(&self, ids: &[i64]) -> Res<()> {
        for (i, id) in ids.iter().enumerate() {
            let pointer = format!("/subscribedApplicationsIds/{i}");
            if ids[..i].contains(id) {
                return Err(ApiError::bad_body(
                    Rule::AudienceDuplicateApplication,
                    &pointer,
                    "Duplicate application id",
                    format!("application {id} is listed more than once; the ids must be unique"),
                ));
            }
            if self.app_pos(*id).is_none() {
                return Err(ApiError::bad_body(
                    Rule::AudienceUnknownApplication,
                    &pointer,
                    "Unknown application",
                    format!("there is no application with id {id}"),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn add_attribute(&mut self, a: Attribute) -> Res<()> {
        let idx = AttrIdx::try_from(self.attributes.len()).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Rule::AttributeTooMany,
                "too many attributes",
            )
        })?;
        if !rules::is_valid_attribute_name(&a.name) {
            return Err(ApiError::bad_body(
                Rule::AttributeInvalidName,
                "/name",
                "Invalid attribute name",
                format!("{:?} does not match ^[A-Za-z]\\w*$", a.name),
            ));
        }
        if self.attributes.iter().any(|b| b.id == a.id) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                Rule::AttributeDuplicate,
                format!("duplicate attribute id {}", a.id),
            ));
        }
        if self
            .attributes
            .iter()
            .any(|b| b.entity == a.entity && b.name == a.name && b.event_type == a.event_type)
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                Rule::AttributeDuplicate,
                format!(
                    "an attribute named {:?} already exists for entity {:?}",
                    a.name, a.entity
                ),
            )
            .pointer(
                "/name",
                "Attribute already exists",
                format!(
                    "an attribute named {:?} already exists for this entity",
                    a.name
                ),
            ));
        }
        if self
            .attributes
            .iter()
            .any(|b| b.entity == a.entity && b.title == a.title && b.event_type == a.event_type)
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                Rule::AttributeDuplicate,
                format!(
                    "an attribute titled {:?} already exists for entity {:?}",
                    a.title, a.entity
                ),
            )
            .pointer(
                "/title",
                "Attribute already exists",
                format!(
                    "an attribute titled {:?} already exists for this entity",
                    a.title
                ),
            ));
        }
        let index = match a.entity {
            Entity::CustomerProfile => Some(&mut self.profile_attrs),
            Entity::CustomerSession => Some(&mut self.session_attrs),
            Entity::CartItem => Some(&mut self.cart_item_attrs),
            Entity::Event => Some(
                self.event_attrs
                    .entry(a.event_type.as_deref().unwrap_or("").into())
                    .or_default(),
            ),
            _ => None,
        };
        if let Some(index) = index {
            index.insert(a.name.as_str().into(), (idx, a.ty));
        }
        self.next_attribute_id = self.next_attribute_id.max(a.id.saturating_add(1));
        self.attributes.push(a);
        Ok(())
    }

    /// Checks every attribute of a request; all problems are reported together.
    pub(crate) fn validate_attributes<'a>(
        &self,
        attrs: &'a Map<String, Value>,
        base: &str,
    ) -> Res<Vec<(AttrIdx, &'a Value)>> {
        self.validate_profile_attributes(attrs, base, false)
            .map(|(pairs, _)| pairs)
    }

    /// [`Catalog::validate_attributes`], and with `skip_unknown` (the relay's
    /// `skipNonExistingAttributes=true`) an attribute the catalog does not define is left out
    /// instead of refused: the second list holds the pointers of those left out. A value of the
    /// wrong type is refused either way.
    pub(crate) fn validate_profile_attributes<'a>(
        &self,
        attrs: &'a Map<String, Value>,
        base: &str,
        skip_unknown: bool,
    ) -> Res<Validated<'a>> {
        self.validate_entity_attributes(Scope::Profile, attrs, base, skip_unknown)
    }

    /// The attribute `name` of `scope`, exactly (names are case-sensitive).
    pub(crate) fn lookup(&self, scope: Scope<'_>, name: &str) -> Option<(AttrIdx, AttrType)> {
        match scope {
            Scope::Profile => self.profile_attrs.get(name).copied(),
            Scope::Session => self.session_attrs.get(name).copied(),
            Scope::CartItem => self.cart_item_attrs.get(name).copied(),
            Scope::Event(t) => self
                .event_attrs
                .get(t)
                .and_then(|i| i.get(name))
                .or_else(|| self.event_attrs.get("").and_then(|i| i.get(name)))
                .copied(),
        }
    }

    /// Checks every attribute of a request against the attributes of `scope` (the entity, and
    /// an event's type): each must be defined, exactly (case-sensitive), and its value must
    /// fit the attribute's type; all problems are reported together, each with a pointer at
    /// the offending value under `base`. With `skip_unknown` an attribute that is not defined
    /// is left out instead of refused (its pointer is in the second list); a value of the
    /// wrong type is refused either way.
    pub(crate) fn validate_entity_attributes<'a>(
        &self,
        scope: Scope<'_>,
        attrs: &'a Map<String, Value>,
        base: &str,
        skip_unknown: bool,
    ) -> Res<Validated<'a>> {
        let mut out = Vec::with_capacity(attrs.len());
        let mut skipped = Vec::new();
        let mut err: Option<ApiError> = None;
        for (name, value) in attrs {
            let problem = match self.lookup(scope, name) {
                None if skip_unknown => {
                    skipped.push(format!("{base}/{}", escape_pointer(name)));
                    None
                }
                None => Some((
                    Rule::AttributeUnknown,
                    "Unknown attribute",
                    format!(
                        "attribute {name:?} is not defined for {} (names are case-sensitive)",
                        scope.describe()
                    ),
                    String::new(),
                )),
                Some((idx, _)) if scope == Scope::Session && value.is_null() => {
                    out.push((idx, value));
                    None
                }
                Some((idx, ty)) => match rules::check_value(ty, value) {
                    Ok(()) => {
                        out.push((idx, value));
                        None
                    }
                    Err(p) => Some((
                        Rule::AttributeType,
                        "Invalid attribute value",
                        format!("attribute {name:?} has type {}: {p}", ty.as_str()),
                        p.pointer_suffix(),
                    )),
                },
            };
            if let Some((rule, title, details, suffix)) = problem {
                let pointer = format!("{base}/{}{suffix}", escape_pointer(name));
                err = Some(match err {
                    None => ApiError::new(StatusCode::BAD_REQUEST, rule, details.clone())
                        .pointer(pointer, title, details),
                    Some(e) => e.pointer(pointer, title, details),
                });
            }
        }
        match err {
            Some(e) => Err(e),
            None => Ok((out, skipped)),
        }
    }

    /// Whether the deployment knows the event type `name`: declared in the state file's
    /// `eventTypes` (or created by the deprecated `PUT /segment/event`), or named by an `Event`
    /// attribute's `eventType`. Exact and case-sensitive.
    pub(crate) fn has_event_type(&self, name: &str) -> bool {
        self.event_types.contains_key(name) || self.event_attrs.contains_key(name)
    }

    pub(crate) fn attrs_map(&self, blob: &[u8]) -> Map<String, Value> {
        let mut pairs: Vec<(&str, Value)> = store::blob_entries(blob)
            .filter_map(|(idx, bytes)| {
                let a = self.attributes.get(usize::from(idx))?;
                Some((
                    a.name.as_str(),
                    serde_json::from_slice(bytes).unwrap_or(Value::Null),
                ))
            })
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    pub(crate) fn profile_json(&self, integration_id: &str, p: &Profile) -> Value {
        let memberships: Vec<Value> = p
            .audiences
            .iter()
            .filter_map(|a| {
                self.audiences
                    .get(a)
                    .map(|au| json!({"id": au.id, "name": au.name}))
            })
            .collect();
        json!({
            "id": p.id,
            "created": rules::format_time(p.created),
            "integrationId": integration_id,
            "attributes": self.attrs_map(&p.attrs),
            "accountId": self.account_id,
            "closedSessions": 0,
            "totalSales": 0,
            "lastActivity": rules::format_time(p.last_activity),
            "audienceMemberships": memberships,
            "sandbox": false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorSource;

    fn event_attribute(id: i64, name: &str) -> Attribute {
        serde_json::from_value(json!({"id": id, "created": "2024-01-01T00:00:00Z", "entity": "Event", "name": name, "title": name, "type": "string", "description": "", "suggestions": [], "editable": true}))
            .expect("attribute")
    }

    fn attribute(
        id: i64,
        entity: &str,
        event_type: Option<&str>,
        name: &str,
        ty: &str,
    ) -> Attribute {
        let mut a = json!({"id": id, "entity": entity, "name": name, "title": name, "type": ty});
        if let Some(t) = event_type {
            a["eventType"] = json!(t);
        }
        serde_json::from_value(a).expect("attribute")
    }

    #[test]
    fn attributes_are_checked_by_entity_and_event_type_exactly() {
        let mut cat = Catalog::default();
        for a in [
            attribute(1, "CustomerProfile", None, "tier", "string"),
            attribute(2, "CustomerSession", None, "tier", "number"),
            attribute(3, "CartItem", None, "color", "string"),
            attribute(4, "Event", Some("Order Completed"), "total", "number"),
            attribute(5, "Event", None, "channel", "string"),
            attribute(6, "Event", Some("Product Viewed"), "sku", "string"),
        ] {
            cat.add_attribute(a).map_err(|e| e.message).expect("added");
        }
        let attrs = |v: Value| v.as_object().cloned().expect("object");
        let ok = |scope, v: Value| {
            let a = attrs(v);
            cat.validate_entity_attributes(scope, &a, "/a", false)
                .map(|(pairs, _)| pairs.len())
                .map_err(|e| {
                    (
                        e.rule,
                        e.errors
                            .iter()
                            .map(|i| i.source.clone())
                            .collect::<Vec<_>>(),
                    )
                })
        };
        let at = |p: &str| ErrorSource::Pointer(p.to_owned());
        // The same name is a different attribute per entity, with its own type.
        assert_eq!(ok(Scope::Profile, json!({"tier": "gold"})), Ok(1));
        assert_eq!(ok(Scope::Session, json!({"tier": 2})), Ok(1));
        assert_eq!(
            ok(Scope::Session, json!({"tier": "gold"})),
            Err((Rule::AttributeType, vec![at("/a/tier")]))
        );
        // A session's null deletes a defined attribute; elsewhere null is a wrong type.
        assert_eq!(ok(Scope::Session, json!({"tier": null})), Ok(1));
        assert_eq!(
            ok(Scope::Profile, json!({"tier": null})),
            Err((Rule::AttributeType, vec![at("/a/tier")]))
        );
        assert_eq!(ok(Scope::CartItem, json!({"color": "red"})), Ok(1));
        assert_eq!(
            ok(Scope::CartItem, json!({"Color": "red", "tier": "x"})),
            Err((Rule::AttributeUnknown, vec![at("/a/Color"), at("/a/tier")]))
        );
        // Events: the attributes of the event's type and those without a type.
        assert_eq!(
            ok(
                Scope::Event("Order Completed"),
                json!({"total": 1, "channel": "web"})
            ),
            Ok(2)
        );
        assert_eq!(
            ok(Scope::Event("Order Completed"), json!({"sku": "s"})),
            Err((Rule::AttributeUnknown, vec![at("/a/sku")]))
        );
        assert_eq!(
            ok(
                Scope::Event("Product Viewed"),
                json!({"sku": "s", "channel": "x"})
            ),
            Ok(2)
        );
        // Skipping leaves unknown ones out and names them; a wrong type is refused still.
        let a = attrs(json!({"color": "red", "Color": 1, "x~y": 1}));
        let (pairs, skipped) = cat
            .validate_entity_attributes(Scope::CartItem, &a, "/cartItems/0/attributes", true)
            .map_err(|e| e.rule)
            .expect("skipped");
        assert_eq!(pairs.len(), 1);
        assert_eq!(
            skipped,
            [
                "/cartItems/0/attributes/Color",
                "/cartItems/0/attributes/x~0y"
            ]
        );
        assert!(cat.has_event_type("Order Completed") && cat.has_event_type("Product Viewed"));
        assert!(!cat.has_event_type("order completed"));
    }

    #[test]
    fn the_catalog_holds_65536_attributes_and_refuses_the_next_with_attribute_too_many() {
        let mut cat = Catalog {
            attributes: vec![event_attribute(1, "same"); usize::from(AttrIdx::MAX)],
            ..Catalog::default()
        };
        assert_eq!(
            cat.add_attribute(event_attribute(2, "last"))
                .map_err(|e| e.rule),
            Ok(())
        );
        let err = cat
            .add_attribute(event_attribute(3, "oneMore"))
            .expect_err("the index is full");
        assert_eq!(
            (err.status, err.rule),
            (StatusCode::BAD_REQUEST, Rule::AttributeTooMany)
        );
        assert_eq!(cat.attributes.len(), usize::from(AttrIdx::MAX) + 1);
    }
}
