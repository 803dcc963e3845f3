//! Segment's mapping language (mapping-kit) and destination-kit's payload pipeline, in Rust,
//! evaluated as Segment's own code evaluates them (`@segment/actions-core`), JavaScript quirks
//! included.
//!
//! The behaviour spec is `segment-mapping-kit.md` (written from Segment's code and tests); the
//! differential test (`tests/differential`) holds this crate to Segment's npm code over seeded
//! inputs.
//!
//! # Values
//!
//! mapping-kit works on JavaScript values: [`Value`] is JSON plus `undefined`
//! ([`Value::Undefined`], "absent", distinct from `null`), numbers are doubles, and objects keep
//! JavaScript's key order ([`Object`]).
//!
//! # Evaluating a mapping
//!
//! ```
//! use segment_mapping::{Value, transform};
//!
//! let mapping = Value::parse(r#"{
//!     "customerProfileId": {"@path": "$.userId"},
//!     "name": {"@template": "{{traits.first}} {{traits.last}}"},
//!     "missing": {"@path": "$.nope"}
//! }"#)?;
//! let event = Value::parse(r#"{"userId": "u1", "traits": {"first": "Ada", "last": "L"}}"#)?;
//! let out = transform(&mapping, &event)?;
//! assert_eq!(out.to_json().as_deref(), Some(r#"{"customerProfileId":"u1","name":"Ada L"}"#));
//!
//! // The line format of `talon-harness mapping eval` (see [`line`]).
//! assert_eq!(
//!     segment_mapping::eval_line(r#"{"mapping": {"@path": "$.nope"}, "payload": {}}"#),
//!     r#"{"absent":true}"#
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`transform`] does what mapping-kit's `transform(mapping, data)` does, in its order:
//! 1. The payload must be a plain object (`data must be an object, got number`); a missing one
//!    ([`Value::Undefined`]) is `{}`, JavaScript's default parameter.
//! 2. The mapping is object-spread: an array becomes an object keyed by index (`["cool"]` gives
//!    `{"0":"cool"}`), a string one keyed by UTF-16 code unit, a number or boolean `{}`, `null`
//!    throws `Cannot convert undefined or null to object`.
//! 3. A root directive: when the mapping has the key `__segment_internal_directive`, its value
//!    must have at most one key (else `The root mapping must only have a single directive
//!    object`) whose value is an object (else `The root directive must be an object`; a `null`
//!    root is JavaScript's `Cannot convert undefined or null to object`). The other top-level
//!    keys become that object's `mapping` option, and the root value is what is evaluated
//!    (Segment's use: `{"@transform": {"apply": …}}`, the customer's fields as its `mapping`).
//! 4. [`validate()`] runs on every call (so does it for a nested `@transform`'s `apply`).
//! 5. `resolve`: a string, number, boolean or `null` is itself (**a plain string is always
//!    literal**, `"{{a}}"` included); an object with at least one `@` key and no other key but
//!    `_metadata` is a directive, run by its **first** `@` key; any other object and every array
//!    are resolved element by element (so inside an array an object such as
//!    `{"@path": "x", "k": 1}` is a raw object, and an unknown directive throws
//!    `@oops is not a valid directive, got undefined`, validation not looking there).
//! 6. `removeUndefined`: object keys holding `undefined` are deleted at any depth; array elements
//!    that are `undefined` stay and are written `null`; empty objects stay; a top-level
//!    `undefined` is the result ("absent").
//!
//! Errors are [`TransformError`]: Segment's own messages, as its code writes them (so, unlike
//! this workspace's own messages, with capitals and periods where Segment has them).
//!
//! ## Paths
//!
//! `@path`, `@arrayPath` and `@template` share Segment's `get` ([`get()`], whose module docs give
//! the splitting rules). Its JavaScript quirks: walking through a falsy value returns it
//! (`$.a.b` on `{"a": null}` is `null`, on `{"a": 0}` is `0`, on `{"a": ""}` is `""`); through a
//! non-empty string or a number it is `undefined`; `length` of a string counts UTF-16 code units;
//! `__proto__` is the built-in prototype; quotes are removed from keys (`$.it's` reads `its`),
//! a dotted key cannot be reached. `@path` and `@arrayPath` delete the first `$.` anywhere in the
//! path (`a.$.b` reads `a.b`); `@template` does not (`{{$.a}}` reads the key `$`).
//!
//! ## The 13 directives
//!
//! Many checks test the **unevaluated** option with JavaScript truthiness, so `0`, `false`, `""`,
//! `null` and absent all count as "missing" there.
//!
//! - **`@path`** `"<path>"` or a directive giving one: the lookup; a non-string path throws
//!   `@path: expected string, got <type>` (`undefined` for a missing inner value).
//! - **`@template`** `"<text>"` or a directive: two passes, `{{{x}}}` first, then `{{x}}` over the
//!   result (so a value inserted by the first pass is expanded by the second). The inner text is
//!   trimmed (ECMAScript's `trim`), looked up, and inserted with `String()`: `null` and
//!   `undefined` as nothing, `1e21` as `1e+21`, `-0` as `0`, an array joined with `,` (its
//!   `null`s empty), an object as `[object Object]`, and an object with an own `toString` key
//!   throws `Cannot convert object to primitive value` as JavaScript does. No HTML escaping;
//!   `{{}}` stays, `{{ }}` is the whole payload, `{{{{a}}}}` gives `}`; `$` in values is literal.
//! - **`@literal`** any value: resolved, not frozen (directives under it run); validation does
//!   not look into a raw object or array under it.
//! - **`@if`** `{exists | blank, then?, else?}`: throws `@if requires an "exists" key or a
//!   "blank" key` when both are falsy as written (`exists: 0` throws). `exists` wins when
//!   present: its value is neither `undefined` nor `null`. Otherwise `blank`: not `undefined`, not
//!   `null`, and `!= ''` under loose equality (`0`, `false`, `[]`, `[""]`, `[null]` are blank;
//!   `"0"`, `" "`, `[0]`, `{}` are not). **`then` is taken when present, `else` only when
//!   truthy**: `then: false` comes through, `else: false` (or `0`, `""`, `null`) gives absent.
//! - **`@case`** `{operator, value?}`: a falsy `operator` throws `@case requires a "operator"
//!   key` (validation lets it through); a falsy `value` as written is absent; a string value is
//!   lower- or upper-cased with full Unicode (`straße` → `STRASSE`, `İ` → `i̇`, final sigma), any
//!   other operator then throws `operator key should have a value of "lower" or "upper"`; a
//!   non-string value is returned unchanged, whatever the operator.
//! - **`@replace`** `{pattern, replacement?, pattern2?, replacement2?, value, ignorecase?,
//!   global?}`: the pattern is **literal**; `global` defaults to true, `ignorecase` to false,
//!   `replacement` (and `replacement2` when `pattern2` is truthy) to `""`. A falsy `value` as
//!   written is absent; a boolean or number value is `String()`ed; anything else that is not a
//!   string gives `""`, as does any option of the wrong type. The replacement keeps JavaScript's
//!   `$` patterns (`$$`, `$&`, `` $` ``, `$'`; `$1` stays as written). `ignorecase` is the
//!   non-Unicode `i` flag: code units compared by simple upper-casing, so `ß` does not match
//!   `ẞ`. `pattern2` runs on the result with the same flags. Over 10 UTF-16 code units, a
//!   pattern or replacement throws `@replace requires a "pattern" less than 10 characters`
//!   (the only check `pattern2` and `replacement2` get).
//! - **`@arrayPath`** `[path, shape?]`: the path (a string, after deleting the first `$.`, or a
//!   directive); when the value is an object or array and the shape a non-empty object, each
//!   element (a lone object as a list of one) is resolved with the shape **as the whole
//!   payload** (the event is out of reach; a primitive element is a payload too). Otherwise the
//!   value is returned unchanged. A non-array argument throws `@arrayPath expected array, got
//!   <type>`.
//! - **`@json`** `{mode, value}`: falsy `mode` or `value` as written throws (`value: null`
//!   passes validation and then throws). `encode` is `JSON.stringify` (absent stays absent, keys
//!   in JavaScript order, JavaScript numbers); `decode` parses a string and gives the string back
//!   when it is not JSON, and any other value unchanged. Another mode (`ENCODE` passes
//!   validation) gives absent.
//! - **`@flatten`** `{value, separator, omitArrays?}`: a falsy separator throws (validation lets
//!   it through), a non-string resolved one throws `@flatten requires a string separator`.
//!   Objects, and arrays unless `omitArrays` is truthy as written, are flattened to
//!   `prefix + separator + key` (just `key` at the top); empty objects and arrays vanish; a
//!   primitive is `{"": value}`; a later key overwrites an earlier one in its place; the
//!   result's index-like keys come first.
//! - **`@merge`** `{objects, direction}`: a falsy `direction` throws (validation lets it
//!   through); `Object.assign` into `{}` in list order (`left` reverses the list first, compared
//!   exactly: `LEFT` merges right). **A key whose value is `undefined` still overrides**, then
//!   disappears; `null`, absent, numbers and booleans add nothing; a string or array adds its
//!   index keys; shallow.
//! - **`@transform`** `{apply, mapping}`: `apply` (an object, possibly a directive) goes through
//!   the whole `transform` on the current payload (validation, the payload check, the root
//!   directive, undefined removal), and `mapping` is resolved against its result alone.
//! - **`@excludeWhenNull`** any value: `null` is absent; in a plain object, `null` values are
//!   made absent, recursively into plain objects only (arrays are left as they are, empty objects
//!   stay).
//! - **`@liquid`** `"<template>"`: see [below](#liquid).
//!
//! ## Validation
//!
//! [`validate()`] gives Segment's messages in Segment's order ([`ValidationErrors`], displayed
//! joined by one space, as the line format writes them); its module docs list what validation
//! does not catch (anything inside an array, missing `@if` conditions, …).
//!
//! ## Limits
//!
//! Evaluation is total: any mapping and payload give a value or an error, never a panic or a
//! stack overflow (the `mapping_eval` fuzz target and `tests/fuzz_oracle.rs` hold it to that).
//! A mapping deeper than [`MAX_MAPPING_DEPTH`] (64) levels of objects and arrays is refused
//! with `mapping nests deeper than 64 levels`, and a payload deeper than [`MAX_PAYLOAD_DEPTH`]
//! (256, above what [`Value::parse`] accepts) with `payload nests deeper than 256 levels`:
//! messages of ours (Segment has no limit short of the JavaScript stack). Every walk is then
//! bounded by those depths.
//!
//! ## `@liquid`
//!
//! Rendered with the `liquid` crate against the whole event, restricted as Segment restricts
//! LiquidJS 10.27: the tags `case`, `for`, `include`, `layout`, `render` and `tablerow` fail
//! with `tag "for" is disabled, line:1, col:1`; the filters `array_to_sentence_string`,
//! `concat`, `find`, `find_exp`, `find_index`, `find_index_exp`, `group_by`, `group_by_exp`,
//! `has`, `has_exp`, `map`, `newline_to_br`, `reject`, `reject_exp`, `reverse`, `sort`,
//! `sort_natural`, `uniq`, `where_exp` and `type` fail when they run with `filter "map" is
//! disabled, line:1, col:3` (the position of the output or tag that uses it); a template over
//! 1000 UTF-16 code units fails with `liquid template values are limited to 1000 characters`;
//! the empty template is `""`. Made to match LiquidJS: a missing variable, key or index (also
//! below `nil`) renders as nothing; numbers print as JavaScript prints them; arrays render
//! their elements concatenated, objects as `[object Object]`; `plus`, `minus`, `times`,
//! `divided_by` and `modulo` compute with JavaScript numbers (`10 | divided_by: 4` is `2.5`,
//! `nil | plus: 1` is `1`); a filter neither engine knows is the identity; an unknown tag fails
//! with `tag "x" not found, line:L, col:C`.
//!
//! The differences that remain between the `liquid` crate and LiquidJS 10.27.2:
//! - Syntax errors (an unclosed block, a bad expression) fail in both, with the `liquid`
//!   crate's text here (`Unclosed block. {% endif %} tag expected., line:1, col:11`), not
//!   LiquidJS's (`tag {% if x %} not closed, line:1, col:1`). LiquidJS also renders some
//!   malformed markup the `liquid` crate refuses (an output with trailing words,
//!   `{{ a b }}`, a `break` or `continue` tag with arguments): those fail here.
//! - LiquidJS's tags `echo`, `liquid`, `block` and the inline comment `{% # … %}`, and its
//!   filters that the `liquid` crate lacks (`json`, `jsonify`, `inspect`, `to_integer`, `raw`,
//!   `xml_escape`, `cgi_escape`, `uri_escape`, `slugify`, `sum`, `push`, `pop`, `shift`,
//!   `unshift`, `sample`, `remove_last`, `replace_last`, `normalize_whitespace`,
//!   `number_of_words`, `base64_encode`, `base64_decode`, `sha256`, `hmac_sha256` and the
//!   `date_to_*` family) fail with `… is not supported by this port`. (`ifchanged`, which only
//!   the `liquid` crate has, is `not found`, as in LiquidJS.)
//! - A path reads what LiquidJS's `readProperty` reads (an array's index, negative from the end,
//!   `first`, `last` and `size`, a string's `size` in UTF-16 code units, an object's `size` when
//!   it has no such key, nothing below a scalar or `nil`), except JavaScript's own properties:
//!   `length` of a string or array, and a string's index (`{{ s[0] }}`), are nothing here.
//! - The other filters are the `liquid` crate's: where the two differ in details (`date`
//!   formats, `round` of halves, `truncate`, filters given an object, which is the string
//!   `[object Object]` here, e.g. to `where`) the result differs. An object with an own
//!   `toString` key renders as `[object Object]` instead of throwing.
//! - A number literal of more than 18 digits in a tag or output fails (`number literals of more
//!   than 18 digits are not supported by this port, line:…, col:…`): the `liquid` crate's parser
//!   would panic on it, where LiquidJS reads it as a double (found by fuzzing).
//! - Which of several errors a template reports first can differ (here disabled tags and unknown
//!   tags are found before the `liquid` crate parses).
//! - `date` of `now` or `today` fails (`filter "date" of "now" reads the clock, which this port
//!   does not`): this crate reads no clock; LiquidJS formats the current date.
//! - LiquidJS's `renderLimit` (500 ms) and `memoryLimit` have no counterpart: without loops a
//!   template of 1000 characters cannot run long.
//!
//! ## Other differences from JavaScript
//!
//! - A Rust string cannot hold a lone UTF-16 surrogate. Where JavaScript splits a character
//!   outside the Basic Multilingual Plane into its two code units (a string mapping spread into
//!   index keys, a string merged by `@merge`, `"😀"[0]` through a path), each half is U+FFFD
//!   here. `@json` decode of `"\ud800"` gives the string back unchanged here (the JSON parser
//!   refuses lone surrogates); JavaScript decodes it. A number `@json` decode cannot hold
//!   (`1e400`, Infinity in JavaScript) also gives the string back.
//! - Inherited members that are functions (`$.a.toString`) are `undefined` here ([`get()`]'s
//!   module docs say where that shows).
//! - A mapping key `__proto__` is dropped (JavaScript's assignment sets the prototype instead),
//!   and so is a `__proto__` key of the payload wherever mapping-kit copies an object
//!   (`removeUndefined`, `@merge`, `@excludeWhenNull`); `@flatten` and `@json` keep it, as
//!   JavaScript does. What JavaScript does besides, and this crate does not: when that key holds
//!   an object or array, the copy's prototype becomes it, so inside a `@transform` whose `apply`
//!   copied such a payload, `$.__proto__` and keys the copy lacks read from it.

mod directives;
pub mod fields;
pub mod fuzz;
pub mod get;
mod js;
pub mod line;
mod liquid;
pub mod mapping;
mod text;
pub mod validate;
pub mod value;

pub use directives::{MAX_PATTERN_LENGTH, MAX_REPLACEMENT_LENGTH};
pub use fields::{Fields, FieldsError, PayloadError};
pub use get::get;
pub use line::{eval_line, validate_line};
pub use mapping::{MAX_PAYLOAD_DEPTH, TransformError, transform};
pub use validate::{MAX_MAPPING_DEPTH, ValidationErrors, validate};
pub use value::{Object, ParseError, Value};
