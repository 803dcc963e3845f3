//! destination-kit's payload pipeline (`Fields::parse` then `Fields::clean`), one case per rule,
//! from Segment's code and tests (`fields-to-jsonschema`, `remove-empty-values`,
//! `schema-validation`, `ajv-human-errors`) and the Talon.One (Actions) destination's own fields.
//! Each case gives the fields, the payload and the expected cleaned payload (JSON text) or the
//! expected error message, exactly as Segment's `Action.execute` would give them.

use segment_mapping::{Fields, FieldsError, Value};

fn value(json: &str) -> Value {
    Value::parse(json).unwrap_or_else(|e| panic!("test JSON {json}: {e}"))
}

fn fields(json: &str) -> Fields {
    Fields::parse(&value(json)).unwrap_or_else(|e| panic!("fields {json}: {e}"))
}

/// The pipeline's result as one line: the cleaned payload's JSON, or `error: <message>`.
fn run(fields_json: &str, payload: &str, is_root: bool) -> String {
    match fields(fields_json).clean(value(payload), is_root) {
        Ok(v) => v.to_json().unwrap_or_else(|| "undefined".to_owned()),
        Err(e) => format!("error: {e}"),
    }
}

macro_rules! case {
    ($name:ident, $fields:expr, $payload:expr => $expected:expr) => {
        #[test]
        fn $name() {
            assert_eq!(run($fields, $payload, true), $expected);
        }
    };
    ($name:ident, batch, $fields:expr, $payload:expr => $expected:expr) => {
        #[test]
        fn $name() {
            assert_eq!(run($fields, $payload, false), $expected);
        }
    };
}

// --- The Talon.One (Actions) destination's fields (t1-properties.ts and the actions) ----------

const CUSTOMER_PROFILE_ID: &str = r#""customerProfileId": {"label": "Customer Profile ID", "description": "The customer profile integration identifier to use in Talon.One.", "type": "string", "required": true, "default": {"@path": "$.userId"}}"#;
const ATTRIBUTES: &str = r#""attributes": {"label": "Attribute-Value pairs", "type": "object", "required": false, "default": {"@path": "$.traits"}}"#;
const AUDIENCE_IDS: &str = r#""addAudienceIds": {"label": "List of audience ID to associate with the customer profile.", "type": "integer", "multiple": true, "required": false}, "deleteAudienceIds": {"label": "List of audience ID to dissociate with the customer profile.", "type": "integer", "multiple": true, "required": false}"#;
const AUDIENCES_TO_ADD: &str = r#""audiencesToAdd": {"label": "The audiences for the customer to join.", "type": "object", "multiple": true, "required": false, "properties": {"name": {"label": "Name", "type": "string", "required": true}, "integrationId": {"label": "integrationID", "type": "string", "required": false}}}"#;
const ATTRIBUTES_INFO: &str = r#""attributesInfo": {"label": "Attributes info", "type": "object", "required": false, "multiple": true, "properties": {"name": {"label": "Name", "type": "string", "required": true}, "type": {"label": "Type", "type": "string", "required": true, "choices": [{"label": "String", "value": "string"}, {"label": "Time", "value": "time"}, {"label": "Number", "value": "number"}, {"label": "Boolean", "value": "boolean"}, {"label": "Location", "value": "location"}]}}}"#;

fn update_customer_profile_v3() -> String {
    format!(
        r#"{{{CUSTOMER_PROFILE_ID}, "skipNonExistingAttributes": {{"label": "Skip Non-existing Attributes Flag", "type": "boolean", "default": false, "required": false}}, {AUDIENCE_IDS}, "runRuleEngine": {{"label": "Run rule engine", "type": "boolean", "default": true}}, {ATTRIBUTES}}}"#
    )
}

fn update_customer_profile_v2() -> String {
    format!(r#"{{{CUSTOMER_PROFILE_ID}, {AUDIENCES_TO_ADD}, {ATTRIBUTES}, {ATTRIBUTES_INFO}}}"#)
}

fn profiles_audiences() -> &'static str {
    r#"{"data": {"label": "Data item to change customer profile audiences", "type": "object", "multiple": true, "required": true, "properties": {"customerProfileId": {"label": "Customer Profile ID", "type": "string", "required": true}, "adds": {"label": "Add audience IDs", "type": "integer", "multiple": true}, "deletes": {"label": "Delete audience IDs", "type": "integer", "multiple": true}}}}"#
}

#[test]
fn talon_profile_v3_cleans_a_realistic_identify_payload() {
    let payload = r#"{"customerProfileId": 12345, "skipNonExistingAttributes": "true", "addAudienceIds": "7", "deleteAudienceIds": ["8", 9], "runRuleEngine": true, "attributes": {"plan": "gold", "empty": "", "nothing": null, "nested": {"x": ""}}, "__segment_internal_matching_key": "k"}"#;
    assert_eq!(
        run(&update_customer_profile_v3(), payload, true),
        r#"{"customerProfileId":"12345","skipNonExistingAttributes":true,"addAudienceIds":[7],"deleteAudienceIds":[8,9],"runRuleEngine":true,"attributes":{"plan":"gold","empty":"","nothing":null,"nested":{"x":""}}}"#
    );
}

#[test]
fn talon_missing_customer_profile_id_is_the_root_required_message() {
    assert_eq!(
        run(&update_customer_profile_v3(), r#"{"attributes": {}}"#, true),
        "error: The root value is missing the required field 'customerProfileId'."
    );
}

#[test]
fn talon_empty_string_profile_id_at_the_root_is_removed_then_missing() {
    assert_eq!(
        run(
            &update_customer_profile_v3(),
            r#"{"customerProfileId": ""}"#,
            true
        ),
        "error: The root value is missing the required field 'customerProfileId'."
    );
}

#[test]
fn talon_empty_string_profile_id_is_kept_in_a_batch() {
    assert_eq!(
        run(
            &update_customer_profile_v3(),
            r#"{"customerProfileId": ""}"#,
            false
        ),
        r#"{"customerProfileId":""}"#
    );
}

#[test]
fn talon_null_profile_id_is_removed_then_missing() {
    assert_eq!(
        run(
            &update_customer_profile_v3(),
            r#"{"customerProfileId": null}"#,
            true
        ),
        "error: The root value is missing the required field 'customerProfileId'."
    );
}

#[test]
fn talon_audience_ids_not_integers_are_type_errors_in_the_items() {
    assert_eq!(
        run(
            &update_customer_profile_v3(),
            r#"{"customerProfileId": "u1", "addAudienceIds": ["x", 1.5, true, null]}"#,
            true
        ),
        "error: The value at /addAudienceIds/0 must be an integer but it was a string. The value at /addAudienceIds/1 must be an integer but it was a number."
    );
}

#[test]
fn talon_audiences_to_add_items_need_a_name_and_lose_unknown_keys() {
    let payload = r#"{"customerProfileId": "u1", "audiencesToAdd": [{"name": "VIP", "integrationId": 5, "extra": 1}, {"integrationId": "a"}]}"#;
    assert_eq!(
        run(&update_customer_profile_v2(), payload, true),
        "error: The value at /audiencesToAdd/1 is missing the required field 'name'."
    );
    let ok = r#"{"customerProfileId": "u1", "audiencesToAdd": [{"name": "VIP", "integrationId": 5, "extra": 1}]}"#;
    assert_eq!(
        run(&update_customer_profile_v2(), ok, true),
        r#"{"customerProfileId":"u1","audiencesToAdd":[{"name":"VIP","integrationId":"5"}]}"#
    );
}

#[test]
fn talon_a_single_audience_object_is_wrapped_into_a_list() {
    let payload = r#"{"customerProfileId": "u1", "audiencesToAdd": {"name": "VIP"}}"#;
    assert_eq!(
        run(&update_customer_profile_v2(), payload, true),
        r#"{"customerProfileId":"u1","audiencesToAdd":[{"name":"VIP"}]}"#
    );
}

#[test]
fn talon_attributes_info_type_must_be_one_of_the_choices() {
    let payload =
        r#"{"customerProfileId": "u1", "attributesInfo": [{"name": "age", "type": "int"}]}"#;
    assert_eq!(
        run(&update_customer_profile_v2(), payload, true),
        r#"error: Type must be one of: "string", "time", "number", "boolean", or "location"."#
    );
}

#[test]
fn talon_data_items_have_no_title_so_the_pointer_is_the_preamble() {
    let payload = r#"{"data": [{"adds": [1]}, {"customerProfileId": "u2", "deletes": "3"}]}"#;
    assert_eq!(
        run(profiles_audiences(), payload, true),
        "error: The value at /data/0 is missing the required field 'customerProfileId'."
    );
    let ok = r#"{"data": [{"customerProfileId": 7, "deletes": ["3"], "x": 1}]}"#;
    // `deletes` is not arrified inside items (arrifyFields is top level only): ["3"] is an
    // array already, and its item "3" is coerced.
    assert_eq!(
        run(profiles_audiences(), ok, true),
        r#"{"data":[{"customerProfileId":"7","deletes":[3]}]}"#
    );
}

#[test]
fn talon_nested_multiple_scalar_is_wrapped_by_ajv_array_coercion() {
    let payload = r#"{"data": [{"customerProfileId": "u", "adds": "3"}]}"#;
    assert_eq!(
        run(profiles_audiences(), payload, true),
        r#"{"data":[{"customerProfileId":"u","adds":[3]}]}"#
    );
}

#[test]
fn talon_track_event_v2_with_unknown_root_keys_removed() {
    let f = format!(
        r#"{{{CUSTOMER_PROFILE_ID}, "eventType": {{"label": "Event Type", "type": "string", "required": true}}, "attributes": {{"label": "Event Attributes", "type": "object"}}}}"#
    );
    assert_eq!(
        run(
            &f,
            r#"{"customerProfileId": "u1", "eventType": ["Order Completed"], "attributes": {"total": 5}, "type": "track"}"#,
            true
        ),
        r#"{"customerProfileId":"u1","eventType":"Order Completed","attributes":{"total":5}}"#
    );
    assert_eq!(
        run(&f, r#"{"eventType": {"a": 1}}"#, true),
        "error: The root value is missing the required field 'customerProfileId'. Event Type must be a string but it was an object."
    );
}

#[test]
fn talon_cart_items_coerce_numbers_and_strings_and_drop_width() {
    let f = r#"{"cartItems": {"label": "Card Items", "type": "object", "multiple": true, "properties": {"name": {"label": "Name", "type": "string"}, "sku": {"label": "SKU", "type": "string"}, "quantity": {"label": "Quantity", "type": "number"}, "price": {"label": "Price", "type": "number"}, "weight": {"label": "Weight", "type": "string"}, "attributes": {"label": "Attribute-Value pairs", "type": "object"}}}, "state": {"label": "State", "type": "string", "choices": [{"label": "Open", "value": "open"}, {"label": "Closed", "value": "closed"}]}}"#;
    assert_eq!(
        run(
            f,
            r#"{"cartItems": [{"name": "shoe", "sku": 42, "quantity": "2", "price": "9.5", "weight": 300, "width": 10, "attributes": {"color": null}}], "state": "open"}"#,
            true
        ),
        r#"{"cartItems":[{"name":"shoe","sku":"42","quantity":2,"price":9.5,"weight":"300","attributes":{"color":null}}],"state":"open"}"#
    );
    assert_eq!(
        run(
            f,
            r#"{"cartItems": [{"quantity": "two"}], "state": "gone"}"#,
            true
        ),
        r#"error: Quantity must be a number but it was a string. State must be one of: "open" or "closed"."#
    );
}

// --- removeEmptyValues (remove-empty-values.test.ts) -------------------------------------------

case!(
    remove_empty_drops_empty_strings_when_the_type_is_not_string,
    r#"{"foo": {"label": "foo", "type": "number"}, "bar": {"label": "bar", "type": "string"}, "baz": {"label": "baz", "type": "boolean"}}"#,
    r#"{"foo": "", "bar": "1", "baz": true}"# => r#"{"bar":"1","baz":true}"#
);
case!(
    remove_empty_leaves_empty_objects,
    r#"{"foo": {"label": "foo", "type": "object"}, "bar": {"label": "bar", "type": "string"}}"#,
    r#"{"foo": {}, "bar": "1"}"# => r#"{"foo":{},"bar":"1"}"#
);
case!(
    remove_empty_walks_objects_with_properties,
    r#"{"a": {"label": "A", "type": "object", "properties": {"b": {"label": "b", "type": "number"}, "c": {"label": "c", "type": "string", "allowNull": true}, "d": {"label": "d", "type": "string"}}}}"#,
    r#"{"a": {"b": "", "c": null, "d": ""}}"# => r#"{"a":{"c":null,"d":""}}"#
);
case!(
    remove_empty_leaves_objects_without_properties_untouched,
    r#"{"data": {"label": "data", "type": "object"}}"#,
    r#"{"data": {"context": {"search": "", "n": null}}}"# => r#"{"data":{"context":{"search":"","n":null}}}"#
);
case!(
    remove_empty_drops_null_unless_allowed,
    r#"{"a": {"label": "a", "type": "string"}, "b": {"label": "b", "type": "string", "allowNull": true}}"#,
    r#"{"a": null, "b": null}"# => r#"{"b":null}"#
);
case!(
    remove_empty_at_the_root_drops_empty_strings_of_string_fields_and_undeclared_keys,
    r#"{"a": {"label": "a", "type": "string"}}"#,
    r#"{"a": "", "b": "", "c": 1}"# => r#"{}"#
);
case!(
    remove_empty_in_a_batch_keeps_root_empty_strings_of_string_fields,
    batch,
    r#"{"a": {"label": "a", "type": "string"}, "n": {"label": "n", "type": "number"}}"#,
    r#"{"a": "", "n": ""}"# => r#"{"a":""}"#
);
case!(
    remove_empty_filters_array_items_and_keeps_the_survivors_unchanged,
    r#"{"ids": {"label": "ids", "type": "integer", "multiple": true}, "objs": {"label": "objs", "type": "object", "multiple": true, "properties": {"k": {"label": "k", "type": "number"}}}}"#,
    r#"{"ids": [null, "", "1", 2], "objs": [{"k": ""}, null]}"# => r#"error: K must be a number but it was a string."#
);
case!(
    remove_empty_multiple_with_allow_null_still_drops_null_items,
    r#"{"ids": {"label": "ids", "type": "integer", "multiple": true, "allowNull": true}}"#,
    r#"{"ids": [null, 1]}"# => r#"{"ids":[1]}"#
);
case!(
    remove_empty_object_with_properties_and_allow_null_drops_null,
    r#"{"o": {"label": "O", "type": "object", "allowNull": true, "properties": {"a": {"label": "a", "type": "string"}}}}"#,
    r#"{"o": null}"# => r#"{}"#
);
case!(
    remove_empty_field_without_type_is_left_alone,
    r#"{"any": {"label": "Any"}}"#,
    r#"{"any": null}"# => r#"{"any":null}"#
);

// --- The schema: types, coercion, arrify ------------------------------------------------------

case!(
    string_fields_coerce_numbers_and_booleans,
    r#"{"s": {"label": "S", "type": "string"}, "t": {"label": "T", "type": "text"}, "p": {"label": "P", "type": "password"}}"#,
    r#"{"s": 1234, "t": true, "p": 1e21}"# => r#"{"s":"1234","t":"true","p":"1e+21"}"#
);
case!(
    number_fields_coerce_numeric_strings_as_javascript_number_does,
    r#"{"a": {"label": "A", "type": "number"}, "b": {"label": "B", "type": "number"}, "c": {"label": "C", "type": "number"}, "d": {"label": "D", "type": "number"}}"#,
    r#"{"a": " 12 ", "b": "0x10", "c": "1e3", "d": false}"# => r#"{"a":12,"b":16,"c":1000,"d":0}"#
);
case!(
    number_from_a_word_is_a_type_error,
    r#"{"cpm": {"label": "CPM Cents", "type": "number"}}"#,
    r#"{"cpm": "ten"}"# => "error: CPM Cents must be a number but it was a string."
);
case!(
    integer_rejects_fractions,
    r#"{"i": {"label": "I Label", "type": "integer"}}"#,
    r#"{"i": 1.5}"# => "error: I Label must be an integer but it was a number."
);
case!(
    integer_from_fractional_string_is_a_type_error,
    r#"{"i": {"label": "I Label", "type": "integer"}}"#,
    r#"{"i": "1.5"}"# => "error: I Label must be an integer but it was a string."
);
case!(
    boolean_coerces_true_false_strings_and_one_zero,
    r#"{"a": {"label": "a", "type": "boolean"}, "b": {"label": "b", "type": "boolean"}, "c": {"label": "c", "type": "boolean"}}"#,
    r#"{"a": "false", "b": 1, "c": "true"}"# => r#"{"a":false,"b":true,"c":true}"#
);
case!(
    boolean_from_yes_is_a_type_error,
    r#"{"b": {"label": "Flag", "type": "boolean"}}"#,
    r#"{"b": "yes"}"# => "error: Flag must be a boolean but it was a string."
);
case!(
    object_from_a_string_is_a_type_error,
    r#"{"o": {"label": "Obj", "type": "object"}}"#,
    r#"{"o": "x"}"# => "error: Obj must be an object but it was a string."
);
case!(
    one_element_array_is_unwrapped_for_a_scalar_field,
    r#"{"s": {"label": "S", "type": "string"}, "n": {"label": "N", "type": "number"}}"#,
    r#"{"s": ["one"], "n": ["12"]}"# => r#"{"s":"one","n":12}"#
);
case!(
    one_element_array_of_an_object_reports_the_element_type,
    r#"{"s": {"label": "S Label", "type": "string"}}"#,
    r#"{"s": [{"a": 1}]}"# => "error: S Label must be a string but it was an object."
);
case!(
    two_element_array_for_a_scalar_is_an_array_type_error,
    r#"{"s": {"label": "S Label", "type": "string"}}"#,
    r#"{"s": ["a", "b"]}"# => "error: S Label must be a string but it was an array."
);
case!(
    multiple_wraps_scalars_and_coerces_items,
    r#"{"ids": {"label": "ids", "type": "integer", "multiple": true}, "tags": {"label": "tags", "type": "string", "multiple": true}}"#,
    r#"{"ids": "12", "tags": 5}"# => r#"{"ids":[12],"tags":["5"]}"#
);
case!(
    allow_null_keeps_null_and_coerces_in_type_order,
    r#"{"s": {"label": "S", "type": "string", "allowNull": true}, "n": {"label": "N", "type": "number", "allowNull": true}}"#,
    r#"{"s": false, "n": null}"# => r#"{"s":"false","n":null}"#
);
case!(
    allow_null_type_error_lists_both_types,
    r#"{"i": {"label": "Count", "type": "integer", "allowNull": true}}"#,
    r#"{"i": "abc"}"# => "error: Count must be an integer or null but it was a string."
);
case!(
    datetime_accepts_strings_and_numbers_and_checks_date_like,
    r#"{"d": {"label": "D Label", "type": "datetime"}, "e": {"label": "E", "type": "datetime"}, "f": {"label": "F", "type": "datetime"}}"#,
    r#"{"d": "2024-03-01T10:00:00Z", "e": 1700000000, "f": "1700000000"}"# => r#"{"d":"2024-03-01T10:00:00Z","e":1700000000,"f":"1700000000"}"#
);
case!(
    datetime_not_a_date_is_a_format_error,
    r#"{"d": {"label": "D Label", "type": "datetime"}}"#,
    r#"{"d": "not a date"}"# => "error: D Label must be a valid date-like string but it was not."
);
case!(
    datetime_of_an_object_is_a_string_or_number_type_error,
    r#"{"d": {"label": "When", "type": "datetime"}}"#,
    r#"{"d": {}}"# => "error: When must be a string or number but it was an object."
);
case!(
    datetime_from_boolean_becomes_its_string,
    r#"{"d": {"label": "When", "type": "datetime"}}"#,
    r#"{"d": true}"# => "error: When must be a valid date-like string but it was not."
);
case!(
    default_is_never_applied,
    r#"{"userId": {"label": "User", "type": "string", "default": {"@path": "$.userId"}}, "flag": {"label": "Flag", "type": "boolean", "default": true}}"#,
    r#"{}"# => r#"{}"#
);
case!(
    an_action_without_fields_passes_everything_through,
    r#"{}"#,
    r#"{"x": "", "y": null, "z": [1]}"# => r#"{"x":"","y":null,"z":[1]}"#
);
case!(
    root_undefined_is_a_root_type_error,
    r#"{"a": {"label": "a", "type": "string"}}"#,
    r#"null"# => "error: The root value must be an object but it was undefined."
);
case!(
    root_array_is_a_root_type_error,
    r#"{"a": {"label": "a", "type": "string"}}"#,
    r#"[1]"# => "error: The root value must be an object but it was an array."
);

// --- Objects, properties, removeAdditional ------------------------------------------------------

case!(
    object_properties_required_uses_the_object_label,
    r#"{"o": {"label": "O Label", "type": "object", "properties": {"a": {"label": "A", "type": "string", "required": true}}}}"#,
    r#"{"o": {"b": 1}}"# => "error: O Label is missing the required field 'a'."
);
case!(
    object_properties_remove_undeclared_keys,
    r#"{"o": {"label": "O", "type": "object", "properties": {"a": {"label": "A", "type": "string"}}}}"#,
    r#"{"o": {"a": 1, "b": 2}}"# => r#"{"o":{"a":"1"}}"#
);
case!(
    object_additional_properties_true_keeps_undeclared_keys,
    r#"{"o": {"label": "O", "type": "object", "additionalProperties": true, "properties": {"a": {"label": "A", "type": "string"}}}}"#,
    r#"{"o": {"a": 1, "b": 2}}"# => r#"{"o":{"a":"1","b":2}}"#
);
case!(
    object_with_empty_properties_removes_every_key,
    r#"{"o": {"label": "O", "type": "object", "properties": {}}}"#,
    r#"{"o": {"a": 1}}"# => r#"{"o":{}}"#
);
case!(
    object_with_properties_of_a_string_is_a_type_error,
    r#"{"o": {"label": "O", "type": "object", "properties": {"a": {"label": "A", "type": "string"}}}}"#,
    r#"{"o": "x"}"# => "error: O must be an object but it was a string."
);
case!(
    multiple_objects_of_a_scalar_is_an_item_type_error,
    r#"{"list": {"label": "List", "type": "object", "multiple": true, "properties": {"k": {"label": "K", "type": "string"}}}}"#,
    r#"{"list": "x"}"# => "error: The value at /list/0 must be an object but it was a string."
);
case!(
    errors_come_in_ajv_order_required_then_properties,
    r#"{"a": {"label": "A", "type": "number"}, "b": {"label": "B", "type": "string", "required": true}, "c": {"label": "C", "type": "string", "required": true}}"#,
    r#"{"a": "x"}"# => "error: The root value is missing the required field 'b'. The root value is missing the required field 'c'. A must be a number but it was a string."
);
case!(
    pointer_segments_are_escaped,
    r#"{"a/b": {"label": "", "type": "number"}, "c~d": {"type": "number"}}"#,
    r#"{"a/b": "x", "c~d": "y"}"# => "error: The value at /a~1b must be a number but it was a string. The value at /c~0d must be a number but it was a string."
);

// --- Enums, lengths, limits, formats -------------------------------------------------------------

case!(
    choices_are_an_enum_with_or_before_the_last,
    r#"{"c": {"label": "C Label", "type": "string", "choices": ["a", "b"]}}"#,
    r#"{"c": "z"}"# => r#"error: C Label must be one of: "a" or "b"."#
);
case!(
    choices_with_allow_null_list_null,
    r#"{"c": {"label": "C Label", "type": "string", "allowNull": true, "choices": ["a"]}}"#,
    r#"{"c": "z"}"# => r#"error: C Label must be one of: "a" or null."#
);
case!(
    choices_on_multiple_move_to_the_items,
    r#"{"c": {"label": "C Label", "type": "string", "multiple": true, "choices": ["a", "b", "c"]}}"#,
    r#"{"c": ["a", "q"]}"# => r#"error: The value at /c/1 must be one of: "a", "b", or "c"."#
);
case!(
    string_minimum_and_maximum_are_lengths,
    r#"{"t": {"label": "Test Field", "type": "string", "minimum": 5, "maximum": 6}}"#,
    r#"{"t": "a"}"# => "error: Test Field must be 5 characters or more but it was 1 character."
);
case!(
    string_maximum_counts_code_points_and_prints_utf16_length,
    r#"{"t": {"label": "T", "type": "string", "maximum": 1}}"#,
    r#"{"t": "😀😀"}"# => "error: T must be 1 character or fewer but it was 4 characters."
);
case!(
    number_minimum_and_maximum,
    r#"{"n": {"label": "Batch size", "type": "number", "minimum": 100, "maximum": 200}, "m": {"label": "M", "type": "number", "maximum": 2}}"#,
    r#"{"n": 5, "m": "3"}"# => "error: Batch size must be equal to or greater than 100. M must be equal to or less than 2."
);
case!(
    minimum_zero_is_ignored_by_truthiness,
    r#"{"n": {"label": "N", "type": "number", "minimum": 0}, "s": {"label": "S", "type": "string", "minimum": 0}}"#,
    r#"{"n": -5, "s": "x"}"# => r#"{"n":-5,"s":"x"}"#
);
case!(
    integer_fields_ignore_minimum,
    r#"{"i": {"label": "I", "type": "integer", "minimum": 10}}"#,
    r#"{"i": 1}"# => r#"{"i":1}"#
);
case!(
    email_format_uses_the_email_address_label,
    r#"{"e": {"label": "Email", "type": "string", "format": "email"}}"#,
    r#"{"e": "nope"}"# => "error: Email must be a valid email address string but it was not."
);
case!(
    date_time_format_uses_the_date_and_time_label,
    r#"{"e": {"label": "At", "type": "string", "format": "date-time"}}"#,
    r#"{"e": "2024-01-01"}"# => "error: At must be a valid date and time string but it was not."
);
case!(
    uri_format_uses_the_uri_label,
    r#"{"u": {"label": "Callback Destination URI", "type": "string", "format": "uri"}}"#,
    r#"{"u": "mydomain.com/api/callback_here"}"# => "error: Callback Destination URI must be a valid URI string but it was not."
);
case!(
    uri_format_accepts_absolute_uris,
    r#"{"u": {"label": "U", "type": "string", "format": "uri"}}"#,
    r#"{"u": "http://mydomain.com/api/callback_here"}"# => r#"{"u":"http://mydomain.com/api/callback_here"}"#
);
case!(
    formats_apply_to_strings_only,
    r#"{"e": {"label": "E", "type": "number", "format": "email"}}"#,
    r#"{"e": 5}"# => r#"{"e":5}"#
);
case!(
    text_and_password_formats_always_pass,
    r#"{"t": {"label": "T", "type": "text"}, "p": {"label": "P", "type": "password"}}"#,
    r#"{"t": "anything", "p": "x"}"# => r#"{"t":"anything","p":"x"}"#
);
case!(
    untitled_field_errors_name_the_pointer,
    r#"{"n": {"type": "number"}}"#,
    r#"{"n": {}}"# => "error: The value at /n must be a number but it was an object."
);
case!(
    titles_are_capitalized_by_their_first_character,
    r#"{"n": {"label": "ßize", "type": "number"}}"#,
    r#"{"n": "x"}"# => "error: SSize must be a number but it was a string."
);

// --- Conditionally required fields (schema-validation.test.ts) -----------------------------------

const COND_IS: &str = r#"{"a": {"label": "a", "type": "string"}, "b": {"label": "b", "type": "string", "required": {"conditions": [{"fieldKey": "a", "operator": "is", "value": "a_value"}]}}}"#;

case!(
    conditional_required_when_the_condition_holds,
    COND_IS,
    r#"{"a": "a_value"}"# => r#"error: The root value is missing the required field 'b'. The root value must match "then" schema."#
);
case!(
    conditional_required_not_when_the_condition_fails,
    COND_IS,
    r#"{"a": "other"}"# => r#"{"a":"other"}"#
);
case!(
    conditional_errors_come_before_required_and_property_errors,
    r#"{"x": {"label": "X", "type": "number", "required": true}, "a": {"label": "a", "type": "string"}, "b": {"label": "b", "type": "string", "required": {"conditions": [{"fieldKey": "a", "operator": "is", "value": "v"}]}}}"#,
    r#"{"a": "v"}"# => r#"error: The root value is missing the required field 'b'. The root value must match "then" schema. The root value is missing the required field 'x'."#
);
case!(
    conditional_is_not_with_a_value,
    r#"{"a": {"label": "a", "type": "string"}, "b": {"label": "b", "type": "string", "required": {"conditions": [{"fieldKey": "a", "operator": "is_not", "value": "x"}]}}}"#,
    r#"{"a": "y"}"# => r#"error: The root value is missing the required field 'b'. The root value must match "then" schema."#
);
case!(
    conditional_is_without_a_value_means_absent_or_null,
    r#"{"a": {"label": "a", "type": "string", "allowNull": true}, "b": {"label": "b", "type": "string", "required": {"conditions": [{"fieldKey": "a", "operator": "is"}]}}}"#,
    r#"{"a": null}"# => r#"error: The root value is missing the required field 'b'. The root value must match "then" schema."#
);
case!(
    conditional_is_not_without_a_value_means_present_and_not_null,
    r#"{"a": {"label": "a", "type": "number"}, "b": {"label": "b", "type": "string", "required": {"conditions": [{"fieldKey": "a", "operator": "is_not"}]}}}"#,
    r#"{"a": 3}"# => r#"error: The root value is missing the required field 'b'. The root value must match "then" schema."#
);
case!(
    conditional_null_test_coerces_zero_to_null_before_the_property_is_validated,
    r#"{"a": {"label": "a", "type": "number"}, "b": {"label": "b", "type": "string", "required": {"conditions": [{"fieldKey": "a", "operator": "is_not"}]}}}"#,
    r#"{"a": 0}"# => r#"{"a":0}"#
);
case!(
    conditional_null_test_turns_false_into_an_empty_string_field,
    r#"{"a": {"label": "a", "type": "string"}, "b": {"label": "b", "type": "string", "required": {"conditions": [{"fieldKey": "a", "operator": "is"}]}}}"#,
    r#"{"a": false, "b": "x"}"# => r#"{"a":"","b":"x"}"#
);
case!(
    without_a_condition_false_for_a_string_field_is_its_text,
    r#"{"a": {"label": "a", "type": "string"}}"#,
    r#"{"a": false}"# => r#"{"a":"false"}"#
);
case!(
    conditional_all_of_several_conditions,
    r#"{"a": {"label": "a", "type": "string"}, "c": {"label": "c", "type": "number"}, "b": {"label": "b", "type": "string", "required": {"match": "all", "conditions": [{"fieldKey": "a", "operator": "is", "value": "x"}, {"fieldKey": "c", "operator": "is", "value": 1}]}}}"#,
    r#"{"a": "x", "c": 2}"# => r#"{"a":"x","c":2}"#
);
case!(
    conditional_any_of_several_conditions,
    r#"{"a": {"label": "a", "type": "string"}, "c": {"label": "c", "type": "number"}, "b": {"label": "b", "type": "string", "required": {"match": "any", "conditions": [{"fieldKey": "a", "operator": "is", "value": "x"}, {"fieldKey": "c", "operator": "is", "value": 1}]}}}"#,
    r#"{"a": "y", "c": 1}"# => r#"error: The root value is missing the required field 'b'. The root value must match "then" schema."#
);
case!(
    conditional_several_conditions_without_values_test_presence,
    r#"{"a": {"label": "a", "type": "string", "allowNull": true}, "c": {"label": "c", "type": "number"}, "b": {"label": "b", "type": "string", "required": {"conditions": [{"fieldKey": "a", "operator": "is_not"}, {"fieldKey": "c", "operator": "is"}]}}}"#,
    r#"{"a": null}"# => r#"error: The root value is missing the required field 'b'. The root value must match "then" schema."#
);
case!(
    conditional_on_an_object_child,
    r#"{"o": {"label": "O", "type": "object", "properties": {"kind": {"label": "Kind", "type": "string"}}}, "b": {"label": "b", "type": "string", "required": {"conditions": [{"fieldKey": "o.kind", "operator": "is", "value": "x"}]}}}"#,
    r#"{"o": {"kind": "x"}}"# => r#"error: The root value is missing the required field 'b'. The root value must match "then" schema."#
);
case!(
    conditional_inner_property_is_lifted_to_the_root_and_drops_the_objects_required,
    r#"{"o": {"label": "O", "type": "object", "properties": {"a": {"label": "A", "type": "string", "required": true}, "kind": {"label": "Kind", "type": "string"}, "b": {"label": "B", "type": "string", "required": {"conditions": [{"fieldKey": "o.kind", "operator": "is", "value": "x"}]}}}}}"#,
    r#"{"o": {"kind": "x"}}"# => r#"error: The value at /o is missing the required field 'b'. The root value must match "then" schema."#
);
#[test]
fn conditional_with_an_unknown_operator_is_refused_as_segment_refuses_it() {
    let f = value(
        r#"{"b": {"label": "b", "type": "string", "required": {"conditions": [{"fieldKey": "a", "operator": "gt", "value": 1}]}}}"#,
    );
    let err = Fields::parse(&f).expect_err("unsupported operator");
    assert_eq!(err, FieldsError::Operator("gt".into()));
    assert_eq!(
        err.to_string(),
        "Unsupported conditionally required field operator: gt"
    );
}

// --- Malformed definitions ---------------------------------------------------------------------

#[test]
fn malformed_definitions_are_fields_errors() {
    for (json, message) in [
        ("[]", "fields: fields must be an object, got array"),
        (r#"{"a": 1}"#, "fields: a must be an object, got number"),
        (
            r#"{"a": {"type": "hidden"}}"#,
            r#"fields: a.type "hidden" is not a field type"#,
        ),
        (
            r#"{"a": {"type": "string", "label": 5}}"#,
            "fields: a.label must be a string",
        ),
        (
            r#"{"a": {"type": "string", "format": "colour"}}"#,
            r##"unknown format "colour" ignored in schema at path "#/properties/a""##,
        ),
        (
            r#"{"a": {"type": "string", "format": "url"}}"#,
            r#"fields: format "url" in a is not supported by this port"#,
        ),
        (
            r#"{"a": {"type": "string", "choices": "a"}}"#,
            "fields: a.choices must be an array",
        ),
        (
            r#"{"a": {"type": "string", "minimum": 1.5}}"#,
            "fields: a.minimum must be a non-negative integer",
        ),
        (
            r#"{"o": {"type": "object", "properties": {"p": {"type": 3}}}}"#,
            "fields: o.properties.p.type must be a string",
        ),
        (
            r#"{"a": {"type": "string", "required": {"conditions": 1}}}"#,
            "fields: a.required must be an object with a `conditions` array",
        ),
    ] {
        let err = Fields::parse(&value(json)).expect_err(json);
        assert_eq!(err.to_string(), message, "{json}");
    }
}

#[test]
fn unknown_definition_keys_are_ignored() {
    assert_eq!(
        run(
            r#"{"a": {"label": "A", "type": "string", "readOnly": true, "dynamic": true, "depends_on": {"conditions": []}, "placeholder": "x", "category": "data"}}"#,
            r#"{"a": 1}"#,
            true
        ),
        r#"{"a":"1"}"#
    );
}

#[test]
fn properties_nesting_is_bounded() {
    let mut json = r#"{"type": "string"}"#.to_owned();
    for _ in 0..40 {
        json = format!(r#"{{"type": "object", "properties": {{"x": {json}}}}}"#);
    }
    let err = Fields::parse(&value(&format!(r#"{{"x": {json}}}"#))).expect_err("too deep");
    assert!(matches!(err, FieldsError::TooDeep(_)), "{err}");
}

#[test]
fn cleaning_never_panics_on_odd_payloads() {
    let f = fields(&update_customer_profile_v2());
    let odd = [
        "1",
        "\"x\"",
        "true",
        "[]",
        "{}",
        r#"{"customerProfileId": [[["x"]]]}"#,
        r#"{"audiencesToAdd": [[{"name": 1}], null, "", 5]}"#,
        r#"{"attributesInfo": {"name": {"deep": [1, {"x": null}]}, "type": ["string"]}}"#,
        r#"{"customerProfileId": {"a": {"b": {"c": {}}}}, "attributes": [1, 2]}"#,
    ];
    for p in odd {
        // Any value or error, never a panic.
        let _ = f.clean(value(p), true);
        let _ = f.clean(value(p), false);
    }
    let mut deep = "1".to_owned();
    for _ in 0..120 {
        deep = format!("[{deep}]");
    }
    let payload = value(&format!(
        r#"{{"customerProfileId": "u", "attributes": {{"d": {deep}}}, "audiencesToAdd": {deep}}}"#
    ));
    assert!(f.clean(payload, true).is_err());
    let _ = f.clean(Value::Undefined, true);
}

// --- Rules that follow from where Segment puts each keyword ------------------------------------

case!(
    multiple_datetime_items_are_not_format_checked,
    r#"{"d": {"label": "Dates", "type": "datetime", "multiple": true}}"#,
    r#"{"d": ["not a date", 5]}"# => r#"{"d":["not a date",5]}"#
);
case!(
    multiple_string_lengths_stay_on_the_array_and_check_nothing,
    r#"{"s": {"label": "S", "type": "string", "multiple": true, "minimum": 3}}"#,
    r#"{"s": ["a"]}"# => r#"{"s":["a"]}"#
);
case!(
    multiple_objects_lose_the_enum_moved_to_their_items,
    r#"{"o": {"label": "O", "type": "object", "multiple": true, "choices": ["x"], "properties": {"k": {"label": "K", "type": "string"}}}}"#,
    r#"{"o": [{"k": 1}]}"# => r#"{"o":[{"k":"1"}]}"#
);
case!(
    object_with_properties_keeps_its_enum,
    r#"{"o": {"label": "O", "type": "object", "choices": [{"label": "x", "value": "x"}], "properties": {"k": {"label": "K", "type": "string"}}}}"#,
    r#"{"o": {"k": 1}}"# => r#"error: O must be one of: "x"."#
);
case!(
    dynamic_auth_settings_is_put_back_after_removal,
    r#"{"a": {"label": "A", "type": "string"}}"#,
    r#"{"dynamicAuthSettings": {"token": "t"}, "a": 1}"# => r#"{"a":"1","dynamicAuthSettings":{"token":"t"}}"#
);
case!(
    dynamic_auth_settings_declared_primitive_is_put_back_uncoerced,
    r#"{"dynamicAuthSettings": {"label": "D", "type": "string"}}"#,
    r#"{"dynamicAuthSettings": 5}"# => r#"{"dynamicAuthSettings":5}"#
);
case!(
    conditional_null_test_unwraps_a_one_element_array,
    r#"{"a": {"label": "a"}, "b": {"label": "b", "type": "string", "required": {"conditions": [{"fieldKey": "a", "operator": "is"}]}}}"#,
    r#"{"a": [0], "b": "x"}"# => r#"{"a":null,"b":"x"}"#
);

#[test]
fn empty_choices_and_empty_conditions_are_refused_as_ajv_refuses_them() {
    for (json, message) in [
        (
            r#"{"a": {"type": "string", "choices": []}}"#,
            "fields: a.choices must be a non-empty array",
        ),
        (
            r#"{"a": {"type": "string", "required": {"conditions": []}}}"#,
            "fields: a.required must be an object with a non-empty `conditions` array",
        ),
    ] {
        let err = Fields::parse(&value(json)).expect_err(json);
        assert_eq!(err.to_string(), message, "{json}");
    }
}

#[test]
fn talon_audience_items_are_not_emptied_so_a_null_name_becomes_an_empty_string() {
    // removeEmptyValues keeps surviving array items unchanged; Ajv then coerces `null` to "".
    let payload = r#"{"customerProfileId": "u1", "audiencesToAdd": [{"name": null, "integrationId": ""}, null]}"#;
    assert_eq!(
        run(&update_customer_profile_v2(), payload, true),
        r#"{"customerProfileId":"u1","audiencesToAdd":[{"name":"","integrationId":""}]}"#
    );
}

case!(
    multiple_is_read_by_javascript_truthiness,
    r#"{"ids": {"label": "ids", "type": "integer", "multiple": "false"}, "one": {"label": "one", "type": "integer", "multiple": 0}}"#,
    r#"{"ids": "1", "one": ["2"]}"# => r#"{"ids":[1],"one":2}"#
);
case!(
    allow_null_object_never_keeps_an_unwrapped_element,
    r#"{"o": {"label": "O", "type": "object", "allowNull": true}, "p": {"label": "P", "type": "object"}}"#,
    r#"{"o": [{"a": 1}], "p": [{"a": 1}]}"# => "error: O must be an object or null but it was an object. P must be an object but it was an array."
);
case!(
    allow_null_free_form_object_coerces_empty_values_to_null,
    r#"{"o": {"label": "O", "type": "object", "allowNull": true}}"#,
    r#"{"o": 0}"# => r#"{"o":null}"#
);
case!(
    number_choices_are_listed_as_json,
    r#"{"n": {"label": "Size", "type": "number", "choices": [{"label": "S", "value": 1}, {"label": "M", "value": 2.5}]}}"#,
    r#"{"n": "3"}"# => "error: Size must be one of: 1 or 2.5."
);
case!(
    number_choices_compare_after_coercion,
    r#"{"n": {"label": "Size", "type": "number", "choices": [{"label": "S", "value": 1}]}}"#,
    r#"{"n": "1"}"# => r#"{"n":1}"#
);
case!(
    enum_is_checked_on_the_unwrapped_element_after_a_failed_coercion,
    r#"{"c": {"label": "C", "type": "string", "choices": ["a"]}}"#,
    r#"{"c": [{"x": 1}]}"# => r#"error: C must be a string but it was an object. C must be one of: "a"."#
);
case!(
    nested_objects_with_properties_are_emptied_and_cleaned,
    r#"{"o": {"label": "O", "type": "object", "properties": {"p": {"label": "P", "type": "object", "properties": {"n": {"label": "N", "type": "number"}, "s": {"label": "S", "type": "string"}}}}}}"#,
    r#"{"o": {"p": {"n": null, "s": null, "x": 1}, "y": 2}}"# => r#"{"o":{"p":{}}}"#
);
case!(
    datetime_one_element_array_of_a_date_string_is_a_type_error,
    r#"{"d": {"label": "When", "type": "datetime"}}"#,
    r#"{"d": ["2024-01-01"]}"# => "error: When must be a string or number but it was a string."
);
case!(
    datetime_one_element_array_of_a_number_becomes_its_string,
    r#"{"d": {"label": "When", "type": "datetime"}}"#,
    r#"{"d": [1700000000]}"# => r#"{"d":"1700000000"}"#
);
case!(
    allow_null_string_one_element_array_of_a_string_is_a_type_error,
    r#"{"s": {"label": "S", "type": "string", "allowNull": true}}"#,
    r#"{"s": ["x"]}"# => "error: S must be a string or null but it was a string."
);
case!(
    single_type_one_element_array_of_the_type_is_unwrapped,
    r#"{"s": {"label": "S", "type": "string"}}"#,
    r#"{"s": ["x"]}"# => r#"{"s":"x"}"#
);

case!(
    allow_null_without_a_type_is_valid_when_multiple,
    r#"{"any": {"label": "Any", "multiple": true, "allowNull": true}}"#,
    // The items schema is `{type: undefined}`: no type, so removeEmptyValues keeps the null.
    r#"{"any": [null, 1, "x"]}"# => r#"{"any":[null,1,"x"]}"#
);

#[test]
fn a_malformed_definition_wins_over_an_unknown_format() {
    let f = value(
        r#"{"a": {"type": "string", "format": "nope"}, "b": {"label": 5, "type": "string"}}"#,
    );
    let err = Fields::parse(&f).expect_err("malformed");
    assert_eq!(err.to_string(), "fields: b.label must be a string");
}

case!(
    a_field_named_after_an_object_prototype_member_sees_the_inherited_function,
    r#"{"toString": {"label": "To String", "type": "string", "required": true}, "constructor": {"label": "C", "required": true}, "valueOf": {"label": "V", "type": "object", "properties": {}}}"#,
    r#"{}"# => "error: To String must be a string but it was a function. V must be an object but it was a function."
);
case!(
    dynamic_auth_settings_wrapped_by_arrify_is_put_back_unwrapped_as_validated,
    r#"{"dynamicAuthSettings": {"label": "D", "type": "object", "multiple": true, "properties": {"k": {"label": "K", "type": "string"}}}}"#,
    r#"{"dynamicAuthSettings": {"k": 1, "x": 2}}"# => r#"{"dynamicAuthSettings":{"k":"1"}}"#
);
case!(
    dynamic_auth_settings_array_keeps_its_coerced_items,
    r#"{"dynamicAuthSettings": {"label": "D", "type": "string", "multiple": true}}"#,
    r#"{"dynamicAuthSettings": ["1", 2]}"# => r#"{"dynamicAuthSettings":["1","2"]}"#
);
case!(
    dynamic_auth_settings_unwrapped_array_is_put_back_as_it_was,
    r#"{"dynamicAuthSettings": {"label": "D", "type": "string"}}"#,
    r#"{"dynamicAuthSettings": [5]}"# => r#"{"dynamicAuthSettings":[5]}"#
);

/// A small seeded generator (SplitMix64), so the sweep below is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "type",
    "label",
    "required",
    "multiple",
    "allowNull",
    "properties",
    "choices",
    "format",
    "minimum",
    "maximum",
    "additionalProperties",
    "conditions",
    "fieldKey",
    "operator",
    "value",
    "match",
    "string",
    "integer",
    "number",
    "object",
    "datetime",
    "boolean",
    "text",
    "password",
    "is",
    "is_not",
    "any",
    "email",
    "uri",
    "date-like",
    "a",
    "b",
    "a.b",
    "",
    "12",
    "x",
    "toString",
    "__proto__",
    "dynamicAuthSettings",
    "2024-01-01",
    "0x1f",
    "😀",
];

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    let mut obj = segment_mapping::Object::new();
    match rng.below(if depth > 4 { 6 } else { 9 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::Number([0.0, 1.0, -1.5, 1e21, 5.0, 255.0][rng.below(6)]),
        3..=5 => Value::String(rng.pick(WORDS).to_owned()),
        6 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            for _ in 0..rng.below(5) {
                obj.insert(rng.pick(WORDS).to_owned(), random_value(rng, depth + 1));
            }
            Value::Object(obj)
        }
    }
}

/// Field definitions built from the real keys, with plausible values and now and then an odd
/// one.
fn random_fields(rng: &mut Rng, depth: usize) -> Value {
    const KEYS: &[&str] = &["a", "b", "0", "x/y", "toString", "dynamicAuthSettings", "o"];
    const TYPES: &[&str] = &[
        "string", "text", "password", "number", "integer", "boolean", "object", "datetime",
    ];
    const FORMATS: &[&str] = &[
        "email",
        "date-time",
        "uri",
        "date",
        "uuid",
        "ipv4",
        "hostname",
    ];
    let mut fields = segment_mapping::Object::new();
    for _ in 0..1 + rng.below(4) {
        let mut def = segment_mapping::Object::new();
        let odd = |rng: &mut Rng, plausible: Value| {
            if rng.below(10) == 0 {
                random_value(rng, 3)
            } else {
                plausible
            }
        };
        if rng.below(8) != 0 {
            let t = Value::String(rng.pick(TYPES).to_owned());
            def.insert("type".into(), odd(rng, t));
        }
        if rng.below(4) != 0 {
            let label = Value::String(rng.pick(&["Label", "", "élan", "ßx", "an item"]).to_owned());
            def.insert("label".into(), odd(rng, label));
        }
        for flag in ["multiple", "allowNull", "additionalProperties"] {
            if rng.below(4) == 0 {
                def.insert(flag.into(), odd(rng, Value::Bool(true)));
            }
        }
        match rng.below(6) {
            0 => {
                def.insert("required".into(), Value::Bool(true));
            }
            1 => {
                let mut c = segment_mapping::Object::new();
                c.insert(
                    "fieldKey".into(),
                    Value::String(rng.pick(&["a", "b", "o.k", "zz"]).to_owned()),
                );
                c.insert(
                    "operator".into(),
                    Value::String(rng.pick(&["is", "is_not"]).to_owned()),
                );
                if rng.below(2) == 0 {
                    c.insert("value".into(), random_value(rng, 4));
                }
                let mut req = segment_mapping::Object::new();
                req.insert(
                    "match".into(),
                    Value::String(rng.pick(&["any", "all"]).to_owned()),
                );
                let n = 1 + rng.below(2);
                req.insert("conditions".into(), Value::Array(vec![Value::Object(c); n]));
                def.insert("required".into(), odd(rng, Value::Object(req)));
            }
            _ => {}
        }
        if rng.below(6) == 0 {
            let choices = Value::Array(vec![
                Value::String("open".into()),
                Value::String("x".into()),
            ]);
            def.insert("choices".into(), odd(rng, choices));
        }
        if rng.below(6) == 0 {
            def.insert("format".into(), Value::String(rng.pick(FORMATS).to_owned()));
        }
        if rng.below(6) == 0 {
            def.insert(
                "minimum".into(),
                Value::Number([0.0, 1.0, 3.0][rng.below(3)]),
            );
            def.insert(
                "maximum".into(),
                Value::Number([0.0, 2.0, 5.0][rng.below(3)]),
            );
        }
        if depth < 3 && rng.below(3) == 0 {
            def.insert("properties".into(), random_fields(rng, depth + 1));
        }
        fields.insert(rng.pick(KEYS).to_owned(), Value::Object(def));
    }
    Value::Object(fields)
}

#[test]
fn parsing_and_cleaning_never_panic_on_random_definitions_and_payloads() {
    let mut rng = Rng(14);
    let mut parsed = 0usize;
    for i in 0..20_000 {
        let fields = if i % 4 == 0 {
            random_value(&mut rng, 0)
        } else {
            random_fields(&mut rng, 0)
        };
        let payload = random_value(&mut rng, 0);
        if let Ok(f) = Fields::parse(&fields) {
            if fields.as_object().is_some_and(|o| !o.is_empty()) {
                parsed += 1;
            }
            let _ = f.clean(payload.clone(), true);
            let _ = f.clean(payload, false);
        }
    }
    // The sweep must reach the cleaning step with real schemas, not only the parser's refusals.
    assert!(parsed > 5_000, "only {parsed} non-empty definitions parsed");
}

#[test]
fn deep_choice_and_condition_values_are_refused() {
    let mut deep = "1".to_owned();
    for _ in 0..40 {
        deep = format!("[{deep}]");
    }
    for json in [
        format!(r#"{{"a": {{"type": "string", "choices": [{{"label": "x", "value": {deep}}}]}}}}"#),
        format!(
            r#"{{"a": {{"type": "string", "required": {{"conditions": [{{"fieldKey": "b", "operator": "is", "value": {deep}}}]}}}}}}"#
        ),
    ] {
        assert!(Fields::parse(&value(&json)).is_err(), "{json}");
    }
}

// --- Segment's own schema-validation.test.ts, on its shared schema ------------------------------

/// The fields at the top of Segment's `schema-validation.test.ts`.
const SEGMENT_TEST_FIELDS: &str = r#"{"a": {"label": "a", "type": "string"}, "b": {"label": "b", "type": "object"}, "c": {"label": "c", "type": "object", "properties": {"d": {"label": "d", "type": "string"}}}, "e": {"label": "e", "type": "boolean"}, "f": {"label": "f", "type": "integer"}, "g": {"label": "g", "type": "object", "additionalProperties": true, "properties": {"h": {"label": "h", "type": "string"}}}, "array": {"label": "array", "type": "string", "description": "array", "multiple": true}, "object": {"label": "object", "type": "object", "description": "object", "multiple": true, "properties": {"key": {"type": "string", "label": "key", "description": "key", "required": true}}}}"#;

case!(
    segment_should_remove_any_keys_that_are_not_specified,
    SEGMENT_TEST_FIELDS,
    r#"{"nope": "not a property"}"# => "{}"
);
case!(
    segment_should_allow_any_properties_when_an_object_type_does_not_specify,
    SEGMENT_TEST_FIELDS,
    r#"{"a": "a", "b": {"anything": "goes"}, "d": "d"}"# => r#"{"a":"a","b":{"anything":"goes"}}"#
);
case!(
    segment_should_coerce_properties_for_more_flexible_but_type_safe_inputs,
    SEGMENT_TEST_FIELDS,
    r#"{"a": 1234, "e": "true", "f": "123"}"# => r#"{"a":"1234","e":true,"f":123}"#
);
case!(
    segment_should_coerce_non_arrays_into_arrays,
    SEGMENT_TEST_FIELDS,
    r#"{"array": "value"}"# => r#"{"array":["value"]}"#
);
case!(
    segment_should_coerce_non_arrays_of_objects_into_arrays_of_objects,
    SEGMENT_TEST_FIELDS,
    r#"{"object": {"key": "Value"}}"# => r#"{"object":[{"key":"Value"}]}"#
);
case!(
    segment_should_validate_coerced_arrays,
    SEGMENT_TEST_FIELDS,
    r#"{"object": {"another_key": "value2"}}"# => "error: The value at /object/0 is missing the required field 'key'."
);
case!(
    segment_should_allow_any_properties_based_on_an_object_type_additional_properties_value,
    SEGMENT_TEST_FIELDS,
    r#"{"a": "a", "b": {"anything": "goes"}, "c": {"d": "d", "l": "www"}, "g": {"h": "test", "w": "test 12"}}"# => r#"{"a":"a","b":{"anything":"goes"},"c":{"d":"d"},"g":{"h":"test","w":"test 12"}}"#
);

fn valid(fields_json: &str, payload: &str) -> bool {
    !run(fields_json, payload, true).starts_with("error: ")
}

#[test]
fn segment_should_validate_when_two_fields_depend_on_each_other() {
    let f = r#"{"a": {"label": "a", "type": "string", "required": {"conditions": [{"fieldKey": "b", "operator": "is"}]}}, "b": {"label": "b", "type": "string", "required": {"conditions": [{"fieldKey": "a", "operator": "is"}]}}}"#;
    for p in [
        r#"{"a": "a_value"}"#,
        r#"{"a": "a_value", "b": "b_value"}"#,
        r#"{"b": "b_value"}"#,
    ] {
        assert!(valid(f, p), "{p}");
    }
    assert_eq!(
        run(f, "{}", true),
        r#"error: The root value is missing the required field 'a'. The root value must match "then" schema. The root value is missing the required field 'b'. The root value must match "then" schema."#
    );
}

#[test]
fn segment_should_validate_an_inner_conditionally_required_property_on_an_object_correctly() {
    let f = r#"{"a": {"type": "string", "label": "a"}, "b": {"type": "object", "label": "b", "properties": {"c": {"type": "string", "label": "c", "required": {"conditions": [{"fieldKey": "a", "operator": "is", "value": "a_value"}]}}}}}"#;
    assert!(!valid(f, r#"{"a": "a_value"}"#));
    assert!(valid(f, r#"{"a": "a_value", "b": {"c": "c_value"}}"#));
    assert!(valid(f, r#"{"a": "not a_value"}"#));
    assert!(valid(f, r#"{"a": "not a_value", "b": {"c": "c_value"}}"#));
}

#[test]
fn segment_should_validate_when_referencing_a_child_field_which_is_not_explicitly_defined_in_properties()
 {
    let f = r#"{"a": {"type": "object", "label": "a", "additionalProperties": true}, "c": {"type": "string", "label": "c", "required": {"conditions": [{"fieldKey": "a.b", "operator": "is", "value": "b_value"}]}}}"#;
    assert!(!valid(f, r#"{"a": {"b": "b_value"}}"#));
    assert!(valid(f, r#"{"a": {"b": "b_value"}, "c": "c_value"}"#));
    assert!(valid(f, r#"{"a": {"b": "not b_value"}}"#));
    assert!(valid(f, r#"{"a": {"z": "z_value"}}"#));
}

#[test]
fn segment_should_handle_when_allow_null_is_true_and_the_field_is_null() {
    let f = r#"{"a": {"type": "string", "label": "a", "allowNull": true}, "b": {"type": "string", "label": "b", "required": {"conditions": [{"fieldKey": "a", "operator": "is"}]}}}"#;
    assert!(!valid(f, r#"{"a": null}"#));
    assert!(valid(f, r#"{"a": null, "b": "b_value"}"#));
    assert!(!valid(f, "{}"));
    assert!(valid(f, r#"{"b": "b_value"}"#));
    assert!(valid(f, r#"{"a": "a_value"}"#));
    assert!(valid(f, r#"{"a": "a_value", "b": "b_value"}"#));
}

// --- Segment's own remove-empty-values.test.ts, through the whole pipeline ---------------------

case!(
    segment_leaves_empty_strings_when_subproperties_of_a_field,
    r#"{"product": {"label": "Product", "type": "object", "properties": {"product_id": {"label": "Id", "type": "string"}, "name": {"label": "Name", "type": "string", "allowNull": true}}}}"#,
    r#"{"product": {"product_id": "", "name": ""}}"# => r#"{"product":{"product_id":"","name":""}}"#
);
case!(
    segment_null_values_with_different_schema_types,
    r#"{"product": {"label": "Product", "type": "object", "properties": {"product_id": {"label": "Id", "type": "string"}, "name": {"label": "Name", "type": "string", "allowNull": true}, "address": {"label": "Address", "type": "object"}, "traits": {"label": "Traits", "type": "object", "allowNull": true}, "age": {"label": "Age", "type": "number"}, "accountsCount": {"label": "Accounts", "type": "integer", "allowNull": true}, "isPremium": {"label": "Premium", "type": "boolean"}, "hasSubscription": {"label": "Subscribed", "type": "boolean", "allowNull": true}, "nested": {"label": "Nested", "type": "object"}}}}"#,
    r#"{"product": {"product_id": null, "name": null, "address": null, "traits": null, "age": null, "accountsCount": null, "isPremium": null, "hasSubscription": null, "location": null, "nested": {"foo": null, "bar": ""}}}"# => r#"{"product":{"name":null,"traits":null,"accountsCount":null,"hasSubscription":null,"nested":{"foo":null,"bar":""}}}"#
);
