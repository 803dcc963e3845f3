//! The relay's customer sessions: `PUT /segment/v2/customer_sessions/{customerSessionId}` (the
//! destination's "Update customer session", `updateCustomerSessionV2`) and the deprecated
//! `PUT /segment/customer_sessions/{customerSessionId}` (`updateCustomerSession`).
//!
//! V2 body: the flat `newCustomerSessionV2` (`profileId`, `couponCodes`, `referralCode`,
//! `loyaltyCards`, `state`, `cartItems`, `additionalCosts`, `identifiers`, `attributes`), checked
//! by Talon.One's documented types and limits; session attributes are `CustomerSession`
//! attributes and cart item attributes `CartItem` ones (`?skipNonExistingAttributes=true` leaves
//! unknown ones out). The deprecated body wraps it as `customerSession` with
//! `sessionAttributesInfo` and `cartItemAttributesInfo`, and creates what is missing. Both take
//! the `X-Callback-*` headers, which are checked and recorded in the journal (the fake makes no
//! callback).

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::events::{AttributeInfo, Creator, checked_info};
use super::{Done, Relay, RelayError, RelayJson, RelayQ, path_id, respond, skip_flag};
use crate::body::{Obj, present};
use crate::error::ApiError;
use crate::extract::{Answer, Res, escape_pointer, internal};
use crate::rule::Rule;
use crate::rules::{self, Entity};
use crate::state::{Catalog, Fake, Scope, write};
use crate::state_file::SessionRecord;
use crate::store::lock;

const V2_PREFIX: &str = "/segment/v2/customer_sessions/";
const LEGACY_PREFIX: &str = "/segment/customer_sessions/";

/// Most cart items in a session (Talon.One: "up to 1000").
pub(crate) const MAX_CART_ITEMS: usize = 1000;
/// Most coupon codes in a session, and most characters of one (and of the referral code).
pub(crate) const MAX_COUPON_CODES: usize = 100;
/// Longest coupon or referral code.
pub(crate) const MAX_CODE_LEN: usize = 100;
/// Most loyalty cards in a session.
pub(crate) const MAX_LOYALTY_CARDS: usize = 1;
/// Most identifiers in a session.
pub(crate) const MAX_IDENTIFIERS: usize = 5;
/// The documented names of `X-Content-Fields`.
pub(crate) const CONTENT_FIELDS: [&str; 14] = [
    "customerSession",
    "customerProfile",
    "coupons",
    "triggeredCampaigns",
    "referral",
    "loyalty",
    "event",
    "awardedGiveaways",
    "ruleFailureReasons",
    "previousReturns",
    "createdAttributes",
    "createdCoupons",
    "createdReferrals",
    "effects",
];

pub(super) fn routes() -> Router<Fake> {
    Router::new()
        .route(
            "/segment/v2/customer_sessions/{customerSessionId}",
            put(put_session),
        )
        .route(
            "/segment/customer_sessions/{customerSessionId}",
            put(put_legacy_session),
        )
}

/// `newCustomerSessionV2`, as the relay takes it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SessionBody {
    #[serde(default, deserialize_with = "present")]
    pub(crate) profile_id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) coupon_codes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) referral_code: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) loyalty_cards: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) state: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) cart_items: Option<Vec<Obj<CartItem>>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) additional_costs: Option<BTreeMap<String, Obj<AdditionalCost>>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) identifiers: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) attributes: Option<Map<String, Value>>,
}

/// `cartItem`: `sku` and `quantity` (an integer) required; the documented types, no coercion
/// (Segment sends `returnedQuantity`, `weight`, … as strings and `quantity` as any number:
/// refused, as Talon.One documents the types).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CartItem {
    #[serde(default, deserialize_with = "present")]
    pub(crate) name: Option<String>,
    pub(crate) sku: String,
    pub(crate) quantity: i64,
    #[serde(default, deserialize_with = "present")]
    pub(crate) returned_quantity: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) remaining_quantity: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) price: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) category: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) weight: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) height: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) width: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) length: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) position: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) attributes: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) additional_costs: Option<BTreeMap<String, Obj<AdditionalCost>>>,
}

/// An additional cost: `{"price": number}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdditionalCost {
    pub(crate) price: f64,
}

/// The deprecated body (`UpdateCustomerSessionRequest`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct LegacySessionBody {
    pub(crate) customer_session: Obj<SessionBody>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) session_attributes_info: Option<Vec<Obj<AttributeInfo>>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) cart_item_attributes_info: Option<Vec<Obj<AttributeInfo>>>,
}

async fn put_session(
    State(_): State<Fake>,
    relay: Relay,
    uri: Uri,
    headers: HeaderMap,
    RelayQ(q): RelayQ,
    RelayJson(body): RelayJson<SessionBody>,
) -> Response {
    let done = (|| {
        let id = path_id(uri.path(), V2_PREFIX, "", "customerSessionId")?;
        let skip = skip_flag(&q)?;
        let callback = match callback_notes(&headers) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e.into_relay(&relay))),
        };
        let Some(_slot) = relay.deployment.hold_session(&id) else {
            return Ok(Err(parallel_session(&relay)));
        };
        let mut done =
            relay
                .deployment
                .relay_update_session(relay.app, &id, &body, Mode::Current { skip })?;
        done.notes.extend(callback);
        Ok(Ok(done))
    })();
    match done {
        Ok(Ok(done)) => respond(&relay, Ok(done)),
        Ok(Err(refused)) => refused.into_response(),
        Err(e) => respond(&relay, Err(e)),
    }
}

async fn put_legacy_session(
    State(_): State<Fake>,
    relay: Relay,
    uri: Uri,
    headers: HeaderMap,
    RelayJson(body): RelayJson<LegacySessionBody>,
) -> Response {
    let done = (|| {
        let id = path_id(uri.path(), LEGACY_PREFIX, "", "customerSessionId")?;
        let callback = match callback_notes(&headers) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e.into_relay(&relay))),
        };
        let session_info = checked_info(
            body.session_attributes_info.as_ref(),
            "/sessionAttributesInfo",
        )?;
        let cart_info = checked_info(
            body.cart_item_attributes_info.as_ref(),
            "/cartItemAttributesInfo",
        )?;
        let Some(_slot) = relay.deployment.hold_session(&id) else {
            return Ok(Err(parallel_session(&relay)));
        };
        let mut done = relay.deployment.relay_update_session(
            relay.app,
            &id,
            &body.customer_session,
            Mode::Legacy {
                session_info: &session_info,
                cart_info: &cart_info,
            },
        )?;
        done.notes.extend(callback);
        Ok(Ok(done))
    })();
    match done {
        Ok(Ok(done)) => respond(&relay, Ok(done)),
        Ok(Err(refused)) => refused.into_response(),
        Err(e) => respond(&relay, Err(e)),
    }
}

/// 429 for an update of a session that already has as many updates in flight as the
/// deployment allows (the deployment's own answer is a 409, Facts §3.8).
fn parallel_session(relay: &Relay) -> RelayError {
    RelayError::new(
        StatusCode::TOO_MANY_REQUESTS,
        Rule::RelayParallelRequests,
        "Too many requests: too many parallel requests are updating this customer session; send them sequentially",
        relay.seq,
    )
    .at(&relay.host)
}

// ------------------------------------------------------------------ X-Callback-* headers

/// A refused `X-Callback-*` header.
#[derive(Debug)]
pub(crate) struct CallbackError {
    header: &'static str,
    why: String,
}

impl CallbackError {
    fn into_relay(self, relay: &Relay) -> RelayError {
        RelayError::new(
            StatusCode::BAD_REQUEST,
            Rule::RelayCallbackHeaderInvalid,
            format!("Invalid {} header: {}", self.header, self.why),
            relay.seq,
        )
        .at(&relay.host)
    }
}

/// Checks the `X-Callback-*` headers as documented (AE `components.parameters`) and says in
/// words what callback was asked for: `X-Callback-Destination-URI` an absolute `http(s)` URI;
/// `X-Callback-API-Key` a header name, a space, then a key of at least 32 characters;
/// `X-Content-Fields` a comma list of the documented names; `X-Correlation-ID` anything. The
/// literal text `undefined` (what Segment's template literals made of an unmapped field) is
/// refused like any other value that is not of the documented form (chosen here: Segment now
/// removes such headers before sending, AD §9, so one that arrives is a sender's bug worth
/// showing). The fake records the callback and never makes it.
pub(crate) fn callback_notes(h: &HeaderMap) -> Result<Vec<String>, CallbackError> {
    let get = |name: &'static str| -> Result<Option<&str>, CallbackError> {
        match h.get(name).map(|v| v.to_str()) {
            None => Ok(None),
            Some(Ok(v)) => Ok(Some(v.trim())),
            Some(Err(_)) => Err(CallbackError {
                header: name,
                why: "the value is not visible ASCII".to_owned(),
            }),
        }
    };
    let mut notes = Vec::new();
    if let Some(uri) = get("x-callback-destination-uri")? {
        let ok = uri.split_once("://").is_some_and(|(scheme, rest)| {
            (scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http"))
                && !rest.is_empty()
                && !rest.starts_with('/')
        }) && !uri.contains(char::is_whitespace);
        if !ok {
            return Err(CallbackError {
                header: "X-Callback-Destination-URI",
                why: format!("{uri:?} is not an absolute http(s) URI"),
            });
        }
        notes.push(format!(
            "callback requested: POST {uri} (the fake makes no callback)"
        ));
    }
    if let Some(v) = get("x-callback-api-key")? {
        match v.split_once(' ') {
            Some((name, key))
                if !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                    && key.chars().count() >= 32 => {}
            _ => {
                return Err(CallbackError {
                    header: "X-Callback-API-Key",
                    why:
                        "expected a header name, a space, then an API key of at least 32 characters"
                            .to_owned(),
                });
            }
        }
    }
    if let Some(v) = get("x-content-fields")? {
        let fields: Vec<&str> = v.split(',').map(str::trim).collect();
        if let Some(bad) = fields.iter().find(|f| !CONTENT_FIELDS.contains(f)) {
            return Err(CallbackError {
                header: "X-Content-Fields",
                why: format!("{bad:?} is not one of {}", CONTENT_FIELDS.join(", ")),
            });
        }
        notes.push(format!("callback content fields: {}", fields.join(",")));
    }
    if let Some(v) = get("x-correlation-id")? {
        notes.push(format!("callback correlation id: {v:?}"));
    }
    Ok(notes)
}

// ------------------------------------------------------------------ the session rules

/// Which endpoint a session update came through.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode<'a> {
    /// `PUT /segment/v2/customer_sessions/{id}`: attributes must exist.
    Current { skip: bool },
    /// The deprecated endpoint: missing attributes are created.
    Legacy {
        session_info: &'a [(String, rules::AttrType)],
        cart_info: &'a [(String, rules::AttrType)],
    },
}

/// Whether a session may go from `from` to `to` by an update (AE `newCustomerSessionV2.state`:
/// open → closed, open → cancelled, closed → cancelled, partially_returned → cancelled;
/// closed → partially_returned happens only through returns, so not by an update). Staying in
/// the same state is no transition.
pub(crate) fn transition_allowed(from: &str, to: &str) -> bool {
    from == to
        || matches!(
            (from, to),
            ("open", "closed")
                | ("open", "cancelled")
                | ("closed", "cancelled")
                | ("partially_returned", "cancelled")
        )
}

fn invalid(pointer: &str, title: &str, details: String) -> ApiError {
    ApiError::bad_body(Rule::BodyInvalidField, pointer, title, details)
}

/// The list and length limits of the session body (AE, AD §4.8).
fn check_limits(b: &SessionBody) -> Res<()> {
    let codes = b.coupon_codes.as_deref().unwrap_or_default();
    if codes.len() > MAX_COUPON_CODES {
        return Err(invalid(
            "/couponCodes",
            "Too many coupon codes",
            format!(
                "at most {MAX_COUPON_CODES} coupon codes; got {}",
                codes.len()
            ),
        ));
    }
    for (i, c) in codes.iter().enumerate() {
        if c.chars().count() > MAX_CODE_LEN {
            return Err(invalid(
                &format!("/couponCodes/{i}"),
                "Coupon code too long",
                format!("a coupon code has at most {MAX_CODE_LEN} characters"),
            ));
        }
    }
    if b.referral_code
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_CODE_LEN)
    {
        return Err(invalid(
            "/referralCode",
            "Referral code too long",
            format!("the referral code has at most {MAX_CODE_LEN} characters"),
        ));
    }
    for (field, list, max) in [
        ("loyaltyCards", &b.loyalty_cards, MAX_LOYALTY_CARDS),
        ("identifiers", &b.identifiers, MAX_IDENTIFIERS),
    ] {
        let n = list.as_ref().map_or(0, Vec::len);
        if n > max {
            return Err(invalid(
                &format!("/{field}"),
                "Too many items",
                format!("{field} has at most {max} items; got {n}"),
            ));
        }
    }
    if let Some(s) = &b.state
        && !crate::state::activity::SESSION_STATES.contains(&s.as_str())
    {
        return Err(invalid(
            "/state",
            "enum",
            format!(
                "state must be one of the following: \"open\", \"closed\", \"partially_returned\", \"cancelled\"; got {s:?}"
            ),
        ));
    }
    let items = b.cart_items.as_deref().unwrap_or_default();
    if items.len() > MAX_CART_ITEMS {
        return Err(invalid(
            "/cartItems",
            "Too many cart items",
            format!("at most {MAX_CART_ITEMS} cart items; got {}", items.len()),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        if item.quantity < 1 {
            return Err(invalid(
                &format!("/cartItems/{i}/quantity"),
                "Invalid quantity",
                format!(
                    "quantity is an integer of at least 1; got {}",
                    item.quantity
                ),
            ));
        }
        for (field, v) in [
            ("returnedQuantity", item.returned_quantity),
            ("remainingQuantity", item.remaining_quantity),
        ] {
            if v.is_some_and(|n| n < 0) {
                return Err(invalid(
                    &format!("/cartItems/{i}/{field}"),
                    "Invalid quantity",
                    format!("{field} is an integer of at least 0"),
                ));
            }
        }
    }
    Ok(())
}

fn cost_map(costs: Option<&BTreeMap<String, Obj<AdditionalCost>>>) -> Map<String, Value> {
    costs
        .into_iter()
        .flatten()
        .map(|(k, c)| (k.clone(), json!({"price": c.price})))
        .collect()
}

/// The checked attributes of one entity, as they will be stored, and what was skipped.
type Checked = (Map<String, Value>, Vec<String>);

fn check_attrs(
    cat: &Catalog,
    scope: Scope<'_>,
    attrs: Option<&Map<String, Value>>,
    base: &str,
    mode: Mode<'_>,
    creator: Option<&mut Creator<'_>>,
) -> Res<Checked> {
    let empty = Map::new();
    let attrs = attrs.unwrap_or(&empty);
    match (mode, creator) {
        (Mode::Legacy { .. }, Some(creator)) => {
            let mut out = Map::new();
            for (name, value) in attrs {
                let pointer = format!("{base}/{}", escape_pointer(name));
                out.insert(
                    name.clone(),
                    creator.value(cat, scope, name, value, &pointer)?,
                );
            }
            Ok((out, Vec::new()))
        }
        _ => {
            let skip = matches!(mode, Mode::Current { skip: true });
            let (pairs, skipped) = cat.validate_entity_attributes(scope, attrs, base, skip)?;
            let out = pairs
                .iter()
                .filter_map(|(idx, v)| {
                    let a = cat.attributes.get(usize::from(*idx))?;
                    Some((a.name.clone(), (*v).clone()))
                })
                .collect();
            Ok((out, skipped))
        }
    }
}

impl Fake {
    /// A session update on this deployment: every check before any change, then the profile
    /// created if missing, the attributes the deprecated endpoint creates added, and the
    /// session stored.
    pub(crate) fn relay_update_session(
        &self,
        app: usize,
        session_id: &str,
        body: &SessionBody,
        mode: Mode<'_>,
    ) -> Res<Done> {
        rules::check_integration_id(session_id).map_err(|d| {
            ApiError::bad_param(
                Rule::IntegrationIdInvalid,
                "customerSessionId",
                "Invalid customerSessionId",
                d,
            )
        })?;
        check_limits(body)?;
        // An empty profileId is an anonymous session (inferred from the Integration API's
        // sessions, where a session without a known customer has no profile).
        let profile = body.profile_id.as_deref().filter(|p| !p.is_empty());
        if let Some(p) = profile {
            rules::check_integration_id(p).map_err(|d| {
                ApiError::bad_body(
                    Rule::IntegrationIdInvalid,
                    "/profileId",
                    "Invalid profileId",
                    d,
                )
            })?;
        }
        let mut cat = write(&self.inner.catalog);
        let now = self.now_string();
        let (session_info, cart_info): (&[_], &[_]) = match mode {
            Mode::Legacy {
                session_info,
                cart_info,
            } => (session_info, cart_info),
            Mode::Current { .. } => (&[], &[]),
        };
        let mut session_creator = Creator::new(
            &cat,
            Entity::CustomerSession,
            None,
            session_info,
            now.clone(),
        );
        let (attrs, mut skipped) = check_attrs(
            &cat,
            Scope::Session,
            body.attributes.as_ref(),
            "/attributes",
            mode,
            Some(&mut session_creator),
        )?;
        let mut planned = session_creator.planned;
        let mut cart_creator = Creator::new(&cat, Entity::CartItem, None, cart_info, now.clone());
        cart_creator.skip_ids(planned.len());
        let mut items = Vec::new();
        for (i, item) in body.cart_items.iter().flatten().enumerate() {
            let base = format!("/cartItems/{i}/attributes");
            let (item_attrs, item_skipped) = check_attrs(
                &cat,
                Scope::CartItem,
                item.attributes.as_ref(),
                &base,
                mode,
                Some(&mut cart_creator),
            )?;
            skipped.extend(item_skipped);
            items.push(cart_item_json(item, item_attrs));
        }
        planned.extend(cart_creator.planned);
        let app_id = cat.applications.get(app).ok_or_else(internal)?.id;
        let mut act = lock(&self.inner.activity);
        let existing = act.sessions.get(session_id);
        let mut notes = Vec::new();
        if let (Some(s), Some(p)) = (existing, profile)
            && let Some(owner) = &s.profile_id
            && owner != p
        {
            return Err(ApiError::bad_body(
                Rule::SessionProfileMismatch,
                "/profileId",
                "Session belongs to another profile",
                format!(
                    "the customer session {session_id:?} belongs to the customer profile {owner:?}; an existing session must keep its profileId"
                ),
            ));
        }
        let from = existing.map(|s| s.state.clone());
        let to = body
            .state
            .clone()
            .or_else(|| from.clone())
            .unwrap_or_else(|| "open".to_owned());
        let allowed = match &from {
            Some(f) => transition_allowed(f, &to),
            // A new session starts in any state a session can be created in; partially
            // returned needs returns (chosen here).
            None => to != "partially_returned",
        };
        if !allowed {
            return Err(ApiError::bad_body(
                Rule::SessionInvalidTransition,
                "/state",
                "Invalid state transition",
                format!(
                    "a {} session cannot become {to:?} by an update (open → closed or cancelled, closed → cancelled, partially_returned → cancelled)",
                    from.as_deref()
                        .map_or_else(|| "new".to_owned(), |f| format!("{f:?}"))
                ),
            ));
        }
        // Commit.
        for a in &planned {
            cat.add_attribute(a.clone())?;
        }
        if let Some(p) = profile {
            let ts = self.now();
            let mut shard = self.inner.profiles.shard(p);
            let prof = self.profile_or_new(&mut shard, p, || ts)?;
            prof.apply(app, &[], (&[], &[]), ts);
        }
        let first = existing.is_none();
        let mut record = match act.sessions.get(session_id) {
            Some(s) => s.clone(),
            None => {
                let id = act.next_session_id.max(1);
                act.next_session_id = id.saturating_add(1);
                SessionRecord {
                    integration_id: session_id.to_owned(),
                    id,
                    created: now.clone(),
                    updated: now.clone(),
                    application_id: app_id,
                    profile_id: None,
                    state: "open".to_owned(),
                    coupon_codes: Vec::new(),
                    referral_code: None,
                    loyalty_cards: Vec::new(),
                    cart_items: Vec::new(),
                    additional_costs: Map::new(),
                    identifiers: Vec::new(),
                    attributes: Map::new(),
                }
            }
        };
        if from.as_deref().is_some_and(|f| f != to) {
            notes.push(format!("state {:?} → {to:?}", from.unwrap_or_default()));
        }
        record.updated = now;
        record.state = to;
        if let Some(p) = profile {
            record.profile_id = Some(p.to_owned());
        }
        if let Some(c) = &body.coupon_codes {
            record.coupon_codes.clone_from(c);
        }
        if let Some(c) = &body.referral_code {
            record.referral_code = Some(c.clone());
        }
        if let Some(c) = &body.loyalty_cards {
            record.loyalty_cards.clone_from(c);
        }
        if body.cart_items.is_some() {
            record.cart_items = items;
        }
        if body.additional_costs.is_some() {
            record.additional_costs = cost_map(body.additional_costs.as_ref());
        }
        if let Some(c) = &body.identifiers {
            record.identifiers.clone_from(c);
        }
        for (k, v) in attrs {
            if v.is_null() {
                record.attributes.remove(&k);
            } else {
                record.attributes.insert(k, v);
            }
        }
        let answer = session_json(&record, first);
        act.sessions.insert(session_id.to_owned(), record);
        drop(act);
        drop(cat);
        let mut state = json!({"effects": [], "createdCoupons": [], "createdReferrals": [], "customerSession": answer});
        let rule = match mode {
            Mode::Current { .. } => Rule::OkRelaySessionUpdated,
            Mode::Legacy { .. } => {
                if let Some(o) = state.as_object_mut() {
                    o.insert(
                        "createdAttributes".to_owned(),
                        Value::Array(
                            planned
                                .iter()
                                .map(|a| serde_json::to_value(a).unwrap_or(Value::Null))
                                .collect(),
                        ),
                    );
                }
                Rule::OkRelayDeprecatedSessionUpdated
            }
        };
        Ok(Done {
            answer: Some(Answer {
                status: StatusCode::OK,
                body: Bytes::from(serde_json::to_vec(&state).unwrap_or_default()),
                rule,
            }),
            skipped,
            notes,
        })
    }
}

fn cart_item_json(item: &CartItem, attributes: Map<String, Value>) -> Value {
    let mut o = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            o.insert(k.to_owned(), v);
        }
    };
    put("name", item.name.clone().map(Value::from));
    put("sku", Some(Value::from(item.sku.clone())));
    put("quantity", Some(Value::from(item.quantity)));
    put("returnedQuantity", item.returned_quantity.map(Value::from));
    put(
        "remainingQuantity",
        item.remaining_quantity.map(Value::from),
    );
    put("price", item.price.map(Value::from));
    put("category", item.category.clone().map(Value::from));
    put("weight", item.weight.map(Value::from));
    put("height", item.height.map(Value::from));
    put("width", item.width.map(Value::from));
    put("length", item.length.map(Value::from));
    put("position", item.position.map(Value::from));
    if !attributes.is_empty() {
        put("attributes", Some(Value::Object(attributes)));
    }
    if item.additional_costs.is_some() {
        put(
            "additionalCosts",
            Some(Value::Object(cost_map(item.additional_costs.as_ref()))),
        );
    }
    Value::Object(o)
}

/// The session as the answer's `customerSession` shows it (`CustomerSessionV2`'s fields;
/// totals summed from the cart and the costs).
fn session_json(s: &SessionRecord, first: bool) -> Value {
    let num = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let cart: f64 = s
        .cart_items
        .iter()
        .map(|i| num(i, "price") * num(i, "quantity"))
        .fold(0.0, |a, b| a + b);
    // Folded from +0.0: `Sum` for floats starts at -0.0, which an empty cart would show.
    let costs: f64 = s
        .additional_costs
        .values()
        .map(|c| num(c, "price"))
        .fold(0.0, |a, b| a + b);
    json!({
        "id": s.id,
        "created": s.created,
        "integrationId": s.integration_id,
        "applicationId": s.application_id,
        "profileId": s.profile_id.clone().unwrap_or_default(),
        "couponCodes": s.coupon_codes,
        "referralCode": s.referral_code.clone().unwrap_or_default(),
        "loyaltyCards": s.loyalty_cards,
        "state": s.state,
        "cartItems": s.cart_items,
        "additionalCosts": s.additional_costs,
        "identifiers": s.identifiers,
        "attributes": s.attributes,
        "firstSession": first,
        "total": cart + costs,
        "cartItemTotal": cart,
        "additionalCostTotal": costs,
        "updated": s.updated,
    })
}
