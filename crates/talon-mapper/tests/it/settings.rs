//! Settings validation: every problem is found and reported at once.

use rstest::rstest;
use talon_mapper::{NearMiss, Settings, SettingsError};

fn errors(json: &str) -> Vec<String> {
    match Settings::parse(json) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[rstest]
#[case::valid(r#"{"apiKey":"k","applicationDomain":"https://demo.talon.one","customAttributes":["email"]}"#, &[])]
#[case::trailing_slash_is_fine(r#"{"apiKey":"k","applicationDomain":"https://demo.talon.one/","customAttributes":[]}"#, &[])]
#[case::http_with_port_is_fine(r#"{"apiKey":"k","applicationDomain":"http://127.0.0.1:8080","customAttributes":[]}"#, &[])]
#[case::not_json("{", &["settings are not valid JSON: EOF while parsing an object at line 1 column 1"])]
#[case::not_an_object("[]", &["settings must be a JSON object, found an array"])]
#[case::everything_missing("{}", &["`apiKey` is missing", "`applicationDomain` is missing", "`customAttributes` is missing"])]
#[case::empty_api_key(r#"{"apiKey":"","applicationDomain":"https://a.b","customAttributes":[]}"#, &["`apiKey` is empty"])]
#[case::api_key_not_a_string(r#"{"apiKey":5,"applicationDomain":"https://a.b","customAttributes":[]}"#, &["`apiKey` must be a string, found a number"])]
#[case::domain_without_scheme(r#"{"apiKey":"k","applicationDomain":"demo.talon.one","customAttributes":[]}"#, &["`applicationDomain` \"demo.talon.one\" is not an absolute URL: relative URL without a base"])]
#[case::domain_with_other_scheme(r#"{"apiKey":"k","applicationDomain":"ftp://demo.talon.one","customAttributes":[]}"#, &["`applicationDomain` \"ftp://demo.talon.one\" must use http or https, not \"ftp\""])]
#[case::domain_with_path(r#"{"apiKey":"k","applicationDomain":"https://demo.talon.one/v2","customAttributes":[]}"#, &["`applicationDomain` \"https://demo.talon.one/v2\" has a path \"/v2\"; give the deployment's base URL, e.g. https://demo.talon.one"])]
#[case::domain_with_query(r#"{"apiKey":"k","applicationDomain":"https://demo.talon.one/?x=1","customAttributes":[]}"#, &["`applicationDomain` \"https://demo.talon.one/?x=1\" has a query or fragment; give the base URL only"])]
#[case::domain_with_credentials(r#"{"apiKey":"k","applicationDomain":"https://u:p@demo.talon.one","customAttributes":[]}"#, &["`applicationDomain` \"https://u:p@demo.talon.one\" carries credentials; put the key in `apiKey`"])]
#[case::attributes_not_an_array(r#"{"apiKey":"k","applicationDomain":"https://a.b","customAttributes":"email"}"#, &["`customAttributes` must be an array of strings, found a string"])]
#[case::attribute_not_a_string(r#"{"apiKey":"k","applicationDomain":"https://a.b","customAttributes":[1]}"#, &["`customAttributes[0]` must be a string, found a number"])]
#[case::dotted_attribute(r#"{"apiKey":"k","applicationDomain":"https://a.b","customAttributes":["address.city"]}"#, &["`customAttributes[0]` \"address.city\" is not a valid Talon.One attribute name (^[A-Za-z]\\w*$); Segment flattens nested traits with `_`, not `.`: write \"address_city\", the name the flattened trait has"])]
#[case::attribute_starting_with_digit(r#"{"apiKey":"k","applicationDomain":"https://a.b","customAttributes":["30_day_buyers"]}"#, &["`customAttributes[0]` \"30_day_buyers\" is not a valid Talon.One attribute name (^[A-Za-z]\\w*$)"])]
#[case::attribute_starting_with_underscore(r#"{"apiKey":"k","applicationDomain":"https://a.b","customAttributes":["_x"]}"#, &["`customAttributes[0]` \"_x\" is not a valid Talon.One attribute name (^[A-Za-z]\\w*$)"])]
#[case::empty_attribute(r#"{"apiKey":"k","applicationDomain":"https://a.b","customAttributes":[""]}"#, &["`customAttributes[0]` \"\" is not a valid Talon.One attribute name (^[A-Za-z]\\w*$)"])]
#[case::unicode_attribute(r#"{"apiKey":"k","applicationDomain":"https://a.b","customAttributes":["größe"]}"#, &["`customAttributes[0]` \"größe\" is not a valid Talon.One attribute name (^[A-Za-z]\\w*$); did you mean \"gr__e\"?"])]
#[case::duplicate_attribute(r#"{"apiKey":"k","applicationDomain":"https://a.b","customAttributes":["email","plan","email"]}"#, &["`customAttributes[2]` \"email\" duplicates `customAttributes[0]`"])]
#[case::case_variants_are_not_duplicates(r#"{"apiKey":"k","applicationDomain":"https://a.b","customAttributes":["email","Email"]}"#, &[])]
#[case::all_problems_at_once(r#"{"apiKey":"","applicationDomain":"https://a.b/x?y","customAttributes":["a-b","a-b"]}"#, &[
    "`apiKey` is empty",
    "`applicationDomain` \"https://a.b/x?y\" has a path \"/x\"; give the deployment's base URL, e.g. https://demo.talon.one",
    "`applicationDomain` \"https://a.b/x?y\" has a query or fragment; give the base URL only",
    "`customAttributes[0]` \"a-b\" is not a valid Talon.One attribute name (^[A-Za-z]\\w*$); did you mean \"a_b\"?",
    "`customAttributes[1]` \"a-b\" duplicates `customAttributes[0]`",
])]
fn settings_validation_reports_every_problem(#[case] json: &str, #[case] expected: &[&str]) {
    assert_eq!(errors(json), expected);
}

#[test]
fn the_base_url_drops_the_trailing_slash() {
    let settings = Settings::new("k", "https://demo.talon.one/", &[]).unwrap();
    assert_eq!(settings.base_url(), "https://demo.talon.one");
    assert_eq!(settings.authorization().as_ref(), "ApiKey-v1 k");
}

#[test]
fn lenient_parsing_keeps_invalid_names_and_reports_them() {
    let json = r#"{"apiKey":"k","applicationDomain":"https://a.b","customAttributes":["address.city","email","email"]}"#;
    let (settings, problems) = Settings::parse_lenient(json).unwrap();
    assert_eq!(settings.custom_attributes(), ["address.city", "email"]);
    assert_eq!(problems.len(), 2);
    assert!(problems.iter().all(|p| !p.is_fatal()));
}

#[test]
fn lenient_parsing_still_fails_on_fatal_problems() {
    let err =
        Settings::parse_lenient(r#"{"apiKey":"","applicationDomain":"x","customAttributes":[]}"#)
            .unwrap_err();
    assert!(err.0.contains(&SettingsError::EmptyApiKey));
    assert!(
        err.to_string()
            .starts_with("invalid destination settings:\n  - `apiKey` is empty")
    );
}

#[rstest]
#[case::case_only("Email", &["email"], Some(NearMiss::Case("email")))]
#[case::dotted("address_city", &["address.city"], Some(NearMiss::Dotted("address.city")))]
#[case::exact_is_no_near_miss("email", &["email"], None)]
#[case::unrelated("phone", &["email"], None)]
fn near_misses_are_found(
    #[case] key: &str,
    #[case] names: &[&str],
    #[case] expected: Option<NearMiss<'_>>,
) {
    let json = serde_json::json!({"apiKey": "k", "applicationDomain": "https://a.b", "customAttributes": names});
    let (settings, _) = Settings::parse_lenient(&json.to_string()).unwrap();
    assert_eq!(settings.near_miss(key), expected);
}
