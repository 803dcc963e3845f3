//! `@liquid`: a Liquid template rendered against the whole event (`liquid-directive.ts`).

use crate::mapping::{Result, TransformError};
use crate::value::Value;

/// `evaluateLiquid(template, event)`.
pub(crate) fn evaluate(template: &Value, _payload: &Value) -> Result<Value> {
    let Value::String(_) = template else {
        return Err(TransformError::failed(
            "liquid template value must be a string",
        ));
    };
    Err(TransformError::failed("@liquid is not supported yet"))
}
