//! The one error type of the fake: every rejection is written in Talon.One's `ErrorResponseWithStatus` envelope.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::journal::Decided;
use crate::rule::Rule;

/// Where in the request an error points (`ErrorSource` in Talon.One's OpenAPI files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorSource {
    /// A JSON pointer into the request body, e.g. `/attributes/email`.
    Pointer(String),
    /// A path or query parameter name, e.g. `integrationId`.
    Parameter(String),
}

/// One item of `errors[]` (`APIError`: `title`, `details`, `source`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorItem {
    /// Short description of the problem.
    pub title: String,
    /// Longer explanation.
    pub details: String,
    /// What the error points at.
    pub source: ErrorSource,
}

/// A rejected request: status, Talon.One envelope, and the fake's rule that decided it.
///
/// It is a struct with constructor functions rather than an enum because every
/// rejection renders the same envelope; the `rule` field is the discriminant that
/// tests and the journal look at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {message} ({rule})")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Top-level `message`.
    pub message: String,
    /// `errors[]`.
    pub errors: Vec<ErrorItem>,
    /// The fake's rule id (see `CONTRACT.md`), recorded in the journal, never sent.
    pub rule: Rule,
}

#[derive(Serialize)]
struct Envelope<'a> {
    message: &'a str,
    errors: &'a [ErrorItem],
    #[serde(rename = "StatusCode")]
    status_code: u16,
}

impl ApiError {
    /// A new error without items.
    pub fn new(status: StatusCode, rule: Rule, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: Vec::new(),
            rule,
        }
    }

    /// Adds an item pointing into the body.
    #[must_use]
    pub fn pointer(
        self,
        pointer: impl Into<String>,
        title: impl Into<String>,
        details: impl Into<String>,
    ) -> Self {
        self.item(ErrorSource::Pointer(pointer.into()), title, details)
    }

    /// Adds an item naming a path or query parameter.
    #[must_use]
    pub fn parameter(
        self,
        parameter: impl Into<String>,
        title: impl Into<String>,
        details: impl Into<String>,
    ) -> Self {
        self.item(ErrorSource::Parameter(parameter.into()), title, details)
    }

    fn item(
        mut self,
        source: ErrorSource,
        title: impl Into<String>,
        details: impl Into<String>,
    ) -> Self {
        self.errors.push(ErrorItem {
            title: title.into(),
            details: details.into(),
            source,
        });
        self
    }

    /// 400 with one body pointer.
    pub fn bad_body(rule: Rule, pointer: &str, title: &str, details: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, rule, title).pointer(pointer, title, details)
    }

    /// 400 with one parameter.
    pub fn bad_param(rule: Rule, param: &str, title: &str, details: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, rule, title).parameter(param, title, details)
    }

    /// 404 for a missing resource named by a path parameter.
    pub fn not_found(rule: Rule, param: &str, what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, rule, format!("{what} not found")).parameter(
            param,
            "Not found",
            format!("{what} not found"),
        )
    }

    /// The JSON body that is sent.
    pub fn body_bytes(&self) -> Vec<u8> {
        let env = Envelope {
            message: &self.message,
            errors: &self.errors,
            status_code: self.status.as_u16(),
        };
        serde_json::to_vec(&env).unwrap_or_else(|_| b"{}".to_vec())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body_bytes();
        let mut resp = (
            self.status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        resp.extensions_mut().insert(Decided(self.rule));
        resp
    }
}
