//! The [`Catalog`]'s own rules: applications, attributes (and the type check of attribute
//! values against them), audiences, and how a stored profile is shown.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::Catalog;
use crate::error::ApiError;
use crate::extract::{Res, escape_pointer};
use crate::rule::Rule;
use crate::rules::{self, Entity};
use crate::state_file::Attribute;
use crate::store::{self, AttrIdx, Profile};

/// Attributes that passed the catalog's checks (index and value), and the pointers of the
/// unknown ones that were skipped.
pub(crate) type Validated<'a> = (Vec<(AttrIdx, &'a Value)>, Vec<String>);

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
        if a.entity == Entity::CustomerProfile {
            self.profile_attrs
                .insert(a.name.as_str().into(), (idx, a.ty));
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
        let mut out = Vec::with_capacity(attrs.len());
        let mut skipped = Vec::new();
        let mut err: Option<ApiError> = None;
        for (name, value) in attrs {
            let problem = match self.profile_attrs.get(name.as_str()) {
                None if skip_unknown => {
                    skipped.push(format!("{base}/{}", escape_pointer(name)));
                    None
                }
                None => Some((
                    Rule::AttributeUnknown,
                    "Unknown attribute",
                    format!(
                        "attribute {name:?} is not defined for entity CustomerProfile (names are case-sensitive)"
                    ),
                    String::new(),
                )),
                Some((idx, ty)) => match rules::check_value(*ty, value) {
                    Ok(()) => {
                        out.push((*idx, value));
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

    fn event_attribute(id: i64, name: &str) -> Attribute {
        serde_json::from_value(json!({"id": id, "created": "2024-01-01T00:00:00Z", "entity": "Event", "name": name, "title": name, "type": "string", "description": "", "suggestions": [], "editable": true}))
            .expect("attribute")
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
