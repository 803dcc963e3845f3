//! `@liquid`: a Liquid template rendered against the whole event (`liquid-directive.ts`), with
//! the `liquid` crate restricted as Segment restricts LiquidJS 10.27: the tags `case`, `for`,
//! `include`, `layout`, `render` and `tablerow` and twenty filters are disabled with Segment's
//! messages (and LiquidJS's `, line:L, col:C` suffix), templates are at most 1000 characters.
//!
//! The event is seen through [`Value`] itself (it implements the `liquid` crate's views), so a
//! missing key renders as nothing, as in LiquidJS, instead of the `liquid` crate's "Unknown
//! variable" error. The differences that remain are listed in the crate docs.

// kstring 2.0.5 deprecates `KStringCow`, which liquid-core 0.26's view traits still name in
// their signatures (`to_kstr`, `keys`): implementing them needs the name.
#![allow(deprecated)]

use std::fmt;
use std::sync::OnceLock;

use liquid::reflection::ParserReflection;
use liquid_core::model::{DisplayCow, KStringCow, ObjectView, ScalarCow, State, Value as LValue};
use liquid_core::parser::{FilterArguments, FilterReflection, ParameterReflection, ParseFilter};
use liquid_core::{Filter, Runtime, ValueView};

use crate::js;
use crate::mapping::{Result, TransformError};
use crate::value::{Object, Value, number_to_string};

/// The longest template, in UTF-16 code units.
pub(crate) const MAX_TEMPLATE_LENGTH: usize = 1000;

/// The tags Segment disables.
pub(crate) const DISABLED_TAGS: [&str; 6] =
    ["case", "for", "include", "layout", "render", "tablerow"];

/// The filters Segment disables.
pub(crate) const DISABLED_FILTERS: [&str; 20] = [
    "array_to_sentence_string",
    "concat",
    "find",
    "find_exp",
    "find_index",
    "find_index_exp",
    "group_by",
    "group_by_exp",
    "has",
    "has_exp",
    "map",
    "newline_to_br",
    "reject",
    "reject_exp",
    "reverse",
    "sort",
    "sort_natural",
    "uniq",
    "where_exp",
    "type",
];

/// LiquidJS 10.27.2's filters that the `liquid` crate does not have: a template that uses one
/// fails with a message of ours (LiquidJS's list read from `new Liquid().filters`).
pub(crate) const UNSUPPORTED_FILTERS: [&str; 27] = [
    "xml_escape",
    "cgi_escape",
    "uri_escape",
    "slugify",
    "sum",
    "push",
    "unshift",
    "pop",
    "shift",
    "sample",
    "date_to_xmlschema",
    "date_to_rfc822",
    "date_to_string",
    "date_to_long_string",
    "remove_last",
    "replace_last",
    "normalize_whitespace",
    "number_of_words",
    "base64_encode",
    "base64_decode",
    "sha256",
    "hmac_sha256",
    "raw",
    "jsonify",
    "to_integer",
    "json",
    "inspect",
];

/// LiquidJS 10.27.2's tags (`new Liquid().tags`), and the inner tags of its blocks.
const LIQUIDJS_TAGS: [&str; 20] = [
    "assign",
    "for",
    "capture",
    "case",
    "comment",
    "include",
    "render",
    "decrement",
    "increment",
    "cycle",
    "if",
    "layout",
    "block",
    "raw",
    "tablerow",
    "unless",
    "break",
    "continue",
    "echo",
    "liquid",
];
const INNER_TAGS: [&str; 4] = ["else", "elsif", "when", "#"];

/// LiquidJS tags the `liquid` crate does not have.
const UNSUPPORTED_TAGS: [&str; 5] = ["block", "echo", "liquid", "#", "layout"];

static UNDEFINED: Value = Value::Undefined;

/// `evaluateLiquid(template, event)`.
pub(crate) fn evaluate(template: &Value, payload: &Value) -> Result<Value> {
    let Value::String(template) = template else {
        return fail("liquid template value must be a string");
    };
    if template.is_empty() {
        return Ok(Value::String(String::new()));
    }
    if js::utf16_len(template) > MAX_TEMPLATE_LENGTH {
        return fail("liquid template values are limited to 1000 characters");
    }
    let tokens = tokens(template);
    if let Some(token) = tokens
        .iter()
        .find(|t| t.tag && DISABLED_TAGS.contains(&t.name.as_str()))
    {
        return fail(format!(
            "tag \"{}\" is disabled, line:{}, col:{}",
            token.name, token.line, token.col
        ));
    }
    if let Some(token) = tokens.iter().find(|t| {
        t.tag
            && !LIQUIDJS_TAGS.contains(&t.name.as_str())
            && !INNER_TAGS.contains(&t.name.as_str())
            && !t.name.starts_with("end")
            && !t.name.starts_with('#')
    }) {
        return fail(format!(
            "tag \"{}\" not found, line:{}, col:{}",
            token.name, token.line, token.col
        ));
    }
    if let Some(token) = tokens
        .iter()
        .find(|t| t.tag && (UNSUPPORTED_TAGS.contains(&t.name.as_str()) || t.name.starts_with('#')))
    {
        return fail(format!(
            "tag \"{}\" is not supported by this port, line:{}, col:{}",
            token.name, token.line, token.col
        ));
    }
    // The `liquid` crate panics on an integer literal beyond i64 (its parser assumes the grammar
    // bounds them); LiquidJS reads it as a double. Refused here instead (found by fuzzing).
    if let Some(token) = tokens.iter().find(|t| long_digit_run(&t.body)) {
        return fail(format!(
            "number literals of more than {MAX_LITERAL_DIGITS} digits are not supported by this port, line:{}, col:{}",
            token.line, token.col
        ));
    }
    let shared = match parser() {
        Ok(parser) => parser,
        Err(message) => return fail(message.clone()),
    };
    // A filter neither LiquidJS nor the `liquid` crate knows is the identity in LiquidJS (its
    // filters are not strict): such a template gets a parser of its own that has them.
    let unknown: Vec<String> = tokens
        .iter()
        .flat_map(|t| filter_names(&t.body))
        .filter(|name| !shared.filters().any(|f| f.name() == name.as_str()))
        .collect();
    let own;
    let parser = if unknown.is_empty() {
        shared
    } else {
        own = match builder().fold_identity(&unknown).build() {
            Ok(parser) => parser,
            Err(e) => return fail(first_line(&e)),
        };
        &own
    };
    let parsed = parser
        .parse(template)
        .map_err(|e| TransformError::failed(message(&e, &tokens)))?;
    let empty = Object::new();
    let scope = payload.as_object().unwrap_or(&empty);
    parsed
        .render(scope)
        .map(Value::String)
        .map_err(|e| TransformError::failed(message(&e, &tokens)))
}

fn fail<T>(message: impl Into<String>) -> Result<T> {
    Err(TransformError::failed(message))
}

/// The parser, built once: the standard library with the disabled filters replaced.
fn parser() -> std::result::Result<&'static liquid::Parser, &'static String> {
    static PARSER: OnceLock<std::result::Result<liquid::Parser, String>> = OnceLock::new();
    PARSER
        .get_or_init(|| builder().build().map_err(|e| first_line(&e)))
        .as_ref()
}

/// The standard library with LiquidJS's arithmetic and a `date` that reads no clock, the
/// disabled filters replaced, LiquidJS's filters that the `liquid` crate lacks refused by name.
fn builder() -> liquid::ParserBuilder {
    let b = MATH_FILTERS
        .iter()
        .fold(liquid::ParserBuilder::with_stdlib(), |b, op| {
            b.filter(Math(*op, None))
        })
        .filter(PureDate(liquid_lib::stdlib::Date));
    let b = DISABLED_FILTERS
        .iter()
        .fold(b, |b, name| b.filter(Disabled(name, Why::Segment)));
    UNSUPPORTED_FILTERS
        .iter()
        .fold(b, |b, name| b.filter(Disabled(name, Why::Port)))
}

trait FoldIdentity {
    fn fold_identity(self, names: &[String]) -> Self;
}

impl FoldIdentity for liquid::ParserBuilder {
    fn fold_identity(self, names: &[String]) -> Self {
        names
            .iter()
            .fold(self, |b, name| b.filter(Identity(name.clone())))
    }
}

/// The names of the filters a tag's or output's body applies (each word after a `|` outside
/// quotes).
fn filter_names(body: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut quote = None;
    for (i, c) in body.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '|') => {
                let rest = body.get(i + 1..).unwrap_or_default().trim_start();
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                if !name.is_empty() {
                    names.push(name);
                }
            }
            (None, _) => {}
        }
    }
    names
}

/// An error's text: a disabled filter's as LiquidJS writes it (with the position of the first
/// tag or output that uses the filter), any other the `liquid` crate's message, on one line.
fn message(e: &liquid::Error, tokens: &[Token]) -> String {
    let full = e.to_string();
    // A stray inner or end tag (`{% endif %}` alone): LiquidJS's "not found".
    if full.contains("= Unknown tag.") {
        let requested = full
            .lines()
            .find_map(|l| l.trim().strip_prefix("requested="))
            .unwrap_or_default();
        if let Some(t) = tokens.iter().find(|t| t.tag && t.name == requested) {
            return format!(
                "tag \"{}\" not found, line:{}, col:{}",
                t.name, t.line, t.col
            );
        }
    }
    let text = first_line(e);
    for name in DISABLED_FILTERS.iter().chain(&UNSUPPORTED_FILTERS) {
        if text == disabled_filter(name) || text == unsupported_filter(name) {
            let (line, col) = tokens
                .iter()
                .find(|t| uses_filter(&t.body, name))
                .map_or((1, 1), |t| (t.line, t.col));
            return format!("{text}, line:{line}, col:{col}");
        }
    }
    text
}

/// The `liquid` crate's message on one line: its text (the `= …` line of a parse error) and its
/// ` --> line:col` position as `, line:L, col:C`.
fn first_line(e: &liquid::Error) -> String {
    let text = e.to_string();
    let text = text.strip_prefix("liquid: ").unwrap_or(&text);
    let mut position = None;
    let mut message = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(at) = line.strip_prefix("--> ") {
            position = at.split_once(':');
        } else if let Some(m) = line.strip_prefix("= ") {
            message = Some(m);
        }
    }
    let message = message.unwrap_or_else(|| text.lines().next().unwrap_or_default().trim());
    match position {
        Some((line, col)) => format!("{message}, line:{line}, col:{col}"),
        None => message.to_owned(),
    }
}

fn disabled_filter(name: &str) -> String {
    format!("filter \"{name}\" is disabled")
}

fn unsupported_filter(name: &str) -> String {
    format!("filter \"{name}\" is not supported by this port")
}

/// Whether a tag's or output's body applies the filter `name` (`| name` then a non-word
/// character).
fn uses_filter(body: &str, name: &str) -> bool {
    body.match_indices('|').any(|(i, _)| {
        let rest = body.get(i + 1..).unwrap_or_default().trim_start();
        rest.strip_prefix(name).is_some_and(|after| {
            !after
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
        })
    })
}

/// A `{% … %}` tag or `{{ … }}` output of a template, with LiquidJS's position (1-based line
/// and column, the column in UTF-16 code units).
#[derive(Debug)]
struct Token {
    tag: bool,
    name: String,
    body: String,
    line: usize,
    col: usize,
}

/// The template's tags and outputs in order, leaving out what `raw` and `comment` blocks hold
/// (LiquidJS does not parse it).
fn tokens(template: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut skip_until: Option<&str> = None;
    let mut line = 1;
    let mut col = 1;
    let mut rest = template;
    while !rest.is_empty() {
        let (tag, close) = if rest.starts_with("{%") {
            (true, "%}")
        } else if rest.starts_with("{{") {
            (false, "}}")
        } else {
            let c = rest.chars().next().unwrap_or_default();
            if c == '\n' {
                line += 1;
                col = 1;
            } else {
                col += c.len_utf16();
            }
            rest = rest.get(c.len_utf8()..).unwrap_or_default();
            continue;
        };
        let Some(end) = rest.get(2..).and_then(|r| r.find(close)) else {
            break;
        };
        let raw = rest.get(2..2 + end).unwrap_or_default();
        let body = raw.trim_matches('-').trim();
        let name: String = body
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let (start_line, start_col) = (line, col);
        let whole = rest.get(..end + 4).unwrap_or(rest);
        for c in whole.chars() {
            if c == '\n' {
                line += 1;
                col = 1;
            } else {
                col += c.len_utf16();
            }
        }
        rest = rest.get(whole.len()..).unwrap_or_default();
        if let Some(until) = skip_until {
            if tag && name == until {
                skip_until = None;
            }
            continue;
        }
        match (tag, name.as_str()) {
            (true, "raw") => skip_until = Some("endraw"),
            (true, "comment") => skip_until = Some("endcomment"),
            _ => {}
        }
        out.push(Token {
            tag,
            name,
            body: body.to_owned(),
            line: start_line,
            col: start_col,
        });
    }
    out
}

/// The longest run of digits a number literal in a tag or output may have here (every 18-digit
/// integer fits an i64).
const MAX_LITERAL_DIGITS: usize = 18;

/// Whether `body` holds, outside its quoted strings, a run of more than
/// [`MAX_LITERAL_DIGITS`] ASCII digits.
fn long_digit_run(body: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut run = 0usize;
    for c in body.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                run = 0;
            }
            None if c.is_ascii_digit() => {
                run += 1;
                if run > MAX_LITERAL_DIGITS {
                    return true;
                }
            }
            None => run = 0,
        }
    }
    false
}

/// Why a filter is refused: Segment disables it, or this port lacks it.
#[derive(Clone, Copy, Debug)]
enum Why {
    Segment,
    Port,
}

/// A refused filter: it parses, and fails when it runs.
#[derive(Clone, Debug)]
struct Disabled(&'static str, Why);

impl FilterReflection for Disabled {
    fn name(&self) -> &str {
        self.0
    }
    fn description(&self) -> &str {
        "refused"
    }
    fn positional_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }
    fn keyword_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }
}

impl ParseFilter for Disabled {
    fn parse(&self, _arguments: FilterArguments<'_>) -> liquid_core::Result<Box<dyn Filter>> {
        Ok(Box::new(self.clone()))
    }
    fn reflection(&self) -> &dyn FilterReflection {
        self
    }
}

impl fmt::Display for Disabled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Filter for Disabled {
    fn evaluate(
        &self,
        _input: &dyn ValueView,
        _runtime: &dyn Runtime,
    ) -> liquid_core::Result<LValue> {
        Err(liquid_core::Error::with_msg(match self.1 {
            Why::Segment => disabled_filter(self.0),
            Why::Port => unsupported_filter(self.0),
        }))
    }
}

/// LiquidJS's arithmetic filters, which work on JavaScript numbers (`toNumber`: `Number(v)`, and
/// `0` for `NaN`), unlike the `liquid` crate's (integer division, an error for `nil`).
const MATH_FILTERS: [MathOp; 5] = [
    MathOp::Plus,
    MathOp::Minus,
    MathOp::Times,
    MathOp::DividedBy,
    MathOp::Modulo,
];

#[derive(Clone, Copy, Debug)]
enum MathOp {
    Plus,
    Minus,
    Times,
    DividedBy,
    Modulo,
}

impl MathOp {
    fn name(self) -> &'static str {
        match self {
            Self::Plus => "plus",
            Self::Minus => "minus",
            Self::Times => "times",
            Self::DividedBy => "divided_by",
            Self::Modulo => "modulo",
        }
    }
}

/// An arithmetic filter, and once parsed its argument.
#[derive(Debug)]
struct Math(MathOp, Option<liquid_core::Expression>);

impl Clone for Math {
    fn clone(&self) -> Self {
        // Only the unparsed filter (no argument) is cloned, by the parser's registry.
        Self(self.0, None)
    }
}

impl FilterReflection for Math {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn description(&self) -> &str {
        "LiquidJS's arithmetic"
    }
    fn positional_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }
    fn keyword_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }
}

impl ParseFilter for Math {
    fn parse(&self, mut arguments: FilterArguments<'_>) -> liquid_core::Result<Box<dyn Filter>> {
        Ok(Box::new(Self(self.0, arguments.positional.next())))
    }
    fn reflection(&self) -> &dyn FilterReflection {
        self
    }
}

impl fmt::Display for Math {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

impl Filter for Math {
    fn evaluate(
        &self,
        input: &dyn ValueView,
        runtime: &dyn Runtime,
    ) -> liquid_core::Result<LValue> {
        let arg = match &self.1 {
            Some(expr) => to_number(expr.evaluate(runtime)?.as_view()),
            None => 0.0,
        };
        let v = to_number(input);
        let n = match self.0 {
            MathOp::Plus => v + arg,
            MathOp::Minus => v - arg,
            MathOp::Times => v * arg,
            MathOp::DividedBy => v / arg,
            MathOp::Modulo => v % arg,
        };
        Ok(Value::Number(n).to_value())
    }
}

/// LiquidJS's `toNumber`: JavaScript's `Number(v)`, `0` for `NaN`.
fn to_number(v: &dyn ValueView) -> f64 {
    let n = if v.is_nil() {
        0.0
    } else if let Some(array) = v.as_array() {
        // Number([x]) is Number(String(x)); Number([]) is 0; longer arrays are NaN.
        match array.size() {
            0 => 0.0,
            1 => array.first().map_or(0.0, to_number),
            _ => f64::NAN,
        }
    } else if let Some(scalar) = v.as_scalar() {
        if let Some(b) = scalar.to_bool() {
            if b { 1.0 } else { 0.0 }
        } else if let Some(i) = scalar.to_integer() {
            #[allow(clippy::cast_precision_loss)]
            let f = i as f64;
            f
        } else if let Some(f) = scalar.to_float() {
            f
        } else {
            js::string_to_number(&scalar.to_kstr())
        }
    } else {
        f64::NAN
    };
    if n.is_nan() { 0.0 } else { n }
}

/// The standard `date` filter, except on `now` and `today`, which would read the clock: this
/// crate reads none, so those fail (LiquidJS gives the current date).
#[derive(Clone)]
struct PureDate(liquid_lib::stdlib::Date);

impl FilterReflection for PureDate {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn description(&self) -> &str {
        self.0.description()
    }
    fn positional_parameters(&self) -> &'static [ParameterReflection] {
        self.0.positional_parameters()
    }
    fn keyword_parameters(&self) -> &'static [ParameterReflection] {
        self.0.keyword_parameters()
    }
}

impl ParseFilter for PureDate {
    fn parse(&self, arguments: FilterArguments<'_>) -> liquid_core::Result<Box<dyn Filter>> {
        Ok(Box::new(PureDateFilter(self.0.parse(arguments)?)))
    }
    fn reflection(&self) -> &dyn FilterReflection {
        self
    }
}

#[derive(Debug)]
struct PureDateFilter(Box<dyn Filter>);

impl fmt::Display for PureDateFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Filter for PureDateFilter {
    fn evaluate(
        &self,
        input: &dyn ValueView,
        runtime: &dyn Runtime,
    ) -> liquid_core::Result<LValue> {
        if input.as_scalar().is_some_and(|s| {
            let text = s.to_kstr();
            let t = text.as_str().trim().to_lowercase();
            t == "now" || t == "today"
        }) {
            return Err(liquid_core::Error::with_msg(
                "filter \"date\" of \"now\" reads the clock, which this port does not",
            ));
        }
        self.0.evaluate(input, runtime)
    }
}

/// A filter nobody knows: LiquidJS gives its input back.
#[derive(Clone, Debug)]
struct Identity(String);

impl FilterReflection for Identity {
    fn name(&self) -> &str {
        &self.0
    }
    fn description(&self) -> &str {
        "unknown: the identity, as in LiquidJS"
    }
    fn positional_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }
    fn keyword_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }
}

impl ParseFilter for Identity {
    fn parse(&self, _arguments: FilterArguments<'_>) -> liquid_core::Result<Box<dyn Filter>> {
        Ok(Box::new(self.clone()))
    }
    fn reflection(&self) -> &dyn FilterReflection {
        self
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Filter for Identity {
    fn evaluate(
        &self,
        input: &dyn ValueView,
        _runtime: &dyn Runtime,
    ) -> liquid_core::Result<LValue> {
        Ok(input.to_value())
    }
}

/// How LiquidJS writes a value: `String()` of a number, nothing for `null` and `undefined`, an
/// array's elements concatenated.
fn render(v: &Value) -> String {
    match v {
        Value::Undefined | Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_to_string(*n),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(render).collect(),
        Value::Object(_) => "[object Object]".to_owned(),
    }
}

impl ValueView for Value {
    fn as_debug(&self) -> &dyn fmt::Debug {
        self
    }
    fn render(&self) -> DisplayCow<'_> {
        DisplayCow::Owned(Box::new(render(self)))
    }
    fn source(&self) -> DisplayCow<'_> {
        DisplayCow::Owned(Box::new(self.to_json().unwrap_or_else(|| "nil".to_owned())))
    }
    fn type_name(&self) -> &'static str {
        match self {
            Self::Undefined | Self::Null => "nil",
            Self::Bool(_) => "boolean",
            Self::Number(_) => "number",
            Self::String(_) => "string",
            Self::Array(_) => "array",
            Self::Object(_) => "object",
        }
    }
    fn query_state(&self, state: State) -> bool {
        match state {
            // Liquid's truthiness: only nil and false are falsy.
            State::Truthy => !matches!(self, Self::Undefined | Self::Null | Self::Bool(false)),
            State::DefaultValue => match self {
                Self::Undefined | Self::Null | Self::Bool(false) => true,
                Self::String(s) => s.is_empty(),
                Self::Array(items) => items.is_empty(),
                _ => false,
            },
            State::Empty => match self {
                Self::String(s) => s.is_empty(),
                Self::Array(items) => items.is_empty(),
                Self::Object(obj) => obj.is_empty(),
                _ => false,
            },
            State::Blank => match self {
                Self::Undefined | Self::Null | Self::Bool(false) => true,
                Self::String(s) => s.trim().is_empty(),
                Self::Array(items) => items.is_empty(),
                Self::Object(obj) => obj.is_empty(),
                Self::Bool(true) | Self::Number(_) => false,
            },
        }
    }
    fn to_kstr(&self) -> KStringCow<'_> {
        match self {
            Self::String(s) => KStringCow::from_ref(s),
            other => KStringCow::from_string(render(other)),
        }
    }
    /// The `liquid` crate renders what a path finds through this owned copy: an object becomes
    /// the string `[object Object]`, which is how LiquidJS writes one (the `liquid` crate would
    /// concatenate its keys and values).
    fn to_value(&self) -> LValue {
        match self {
            Self::Undefined | Self::Null => LValue::Nil,
            Self::Array(items) => LValue::Array(items.iter().map(ValueView::to_value).collect()),
            Self::Object(obj) => obj.to_value(),
            // Where Rust would print a double otherwise (`1e21` as 22 digits, `inf`), the text
            // LiquidJS prints instead.
            Self::Number(n)
                if !n.is_finite() || n.abs() >= 1e21 || (*n != 0.0 && n.abs() < 1e-6) =>
            {
                LValue::Scalar(ScalarCow::new(number_to_string(*n)).into_owned())
            }
            scalar => scalar
                .as_scalar()
                .map_or(LValue::Nil, |s| LValue::Scalar(s.into_owned())),
        }
    }
    fn as_scalar(&self) -> Option<ScalarCow<'_>> {
        match self {
            Self::Bool(b) => Some(ScalarCow::new(*b)),
            Self::Number(n) => Some(number_scalar(*n)),
            Self::String(s) => Some(ScalarCow::new(s.as_str())),
            _ => None,
        }
    }
    /// Every value is walked as an object ([`ObjectView`] for [`Value`]), so that a path reads
    /// what LiquidJS's `readProperty` reads; what a path finds is then handed to the `liquid`
    /// crate as an owned copy ([`ValueView::to_value`]), an array as an array.
    fn as_object(&self) -> Option<&dyn ObjectView> {
        match self {
            Self::Object(obj) => Some(obj),
            other => Some(other),
        }
    }
    fn is_nil(&self) -> bool {
        matches!(self, Self::Undefined | Self::Null)
    }
}

/// An integral number within ±2⁵³ as an integer (so `plus` and `times` keep it one), any other
/// as a float.
fn number_scalar(n: f64) -> ScalarCow<'static> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let int = n as i64;
    #[allow(clippy::cast_precision_loss)]
    if int as f64 == n && int.unsigned_abs() <= (1u64 << 53) {
        ScalarCow::new(int)
    } else {
        ScalarCow::new(n)
    }
}

/// A path step from a value other than an object, as LiquidJS's `readProperty` takes it: an
/// array's index (negative from the end), `first` and `last`; a string's and an array's `size`
/// (left to the `liquid` crate, which asks [`ObjectView::size`]); anything else, and anything
/// below `nil`, nothing (rendered as nothing, not the `liquid` crate's "Unknown index").
impl ObjectView for Value {
    fn as_value(&self) -> &dyn ValueView {
        self
    }
    fn size(&self) -> i64 {
        let n = match self {
            Self::Array(items) => items.len(),
            Self::String(s) => js::utf16_len(s),
            Self::Object(obj) => obj.len(),
            _ => 0,
        };
        i64::try_from(n).unwrap_or(i64::MAX)
    }
    fn keys<'k>(&'k self) -> Box<dyn Iterator<Item = KStringCow<'k>> + 'k> {
        Box::new(std::iter::empty())
    }
    fn values<'k>(&'k self) -> Box<dyn Iterator<Item = &'k dyn ValueView> + 'k> {
        Box::new(std::iter::empty())
    }
    fn iter<'k>(&'k self) -> Box<dyn Iterator<Item = (KStringCow<'k>, &'k dyn ValueView)> + 'k> {
        Box::new(std::iter::empty())
    }
    fn contains_key(&self, _index: &str) -> bool {
        true
    }
    fn get<'s>(&'s self, index: &str) -> Option<&'s dyn ValueView> {
        let found = match (self, index) {
            (Self::Array(_) | Self::String(_), "size") => return None,
            (Self::Array(items), "first") => items.first(),
            (Self::Array(items), "last") => items.last(),
            (Self::Array(items), i) => i.parse::<i64>().ok().and_then(|i| {
                let len = i64::try_from(items.len()).ok()?;
                let i = if i < 0 { i + len } else { i };
                usize::try_from(i).ok().and_then(|i| items.get(i))
            }),
            _ => None,
        };
        Some(found.unwrap_or(&UNDEFINED))
    }
}

impl ValueView for Object {
    fn as_debug(&self) -> &dyn fmt::Debug {
        self
    }
    fn render(&self) -> DisplayCow<'_> {
        DisplayCow::Borrowed(&"[object Object]")
    }
    fn source(&self) -> DisplayCow<'_> {
        DisplayCow::Owned(Box::new(
            Value::Object(self.clone()).to_json().unwrap_or_default(),
        ))
    }
    fn type_name(&self) -> &'static str {
        "object"
    }
    fn query_state(&self, state: State) -> bool {
        match state {
            State::Truthy => true,
            State::DefaultValue => false,
            State::Empty | State::Blank => self.is_empty(),
        }
    }
    fn to_kstr(&self) -> KStringCow<'_> {
        KStringCow::from_static("[object Object]")
    }
    fn to_value(&self) -> LValue {
        LValue::Scalar(ScalarCow::new("[object Object]").into_owned())
    }
    fn as_object(&self) -> Option<&dyn ObjectView> {
        Some(self)
    }
}

impl ObjectView for Object {
    fn as_value(&self) -> &dyn ValueView {
        self
    }
    fn size(&self) -> i64 {
        i64::try_from(self.len()).unwrap_or(i64::MAX)
    }
    fn keys<'k>(&'k self) -> Box<dyn Iterator<Item = KStringCow<'k>> + 'k> {
        Box::new(Object::keys(self).map(|k| KStringCow::from_ref(k)))
    }
    fn values<'k>(&'k self) -> Box<dyn Iterator<Item = &'k dyn ValueView> + 'k> {
        Box::new(self.iter().map(|(_, v)| v as &dyn ValueView))
    }
    fn iter<'k>(&'k self) -> Box<dyn Iterator<Item = (KStringCow<'k>, &'k dyn ValueView)> + 'k> {
        Box::new(Object::iter(self).map(|(k, v)| (KStringCow::from_ref(k), v as &dyn ValueView)))
    }
    /// Every key is there: a missing one is `undefined` (nothing when rendered), as LiquidJS
    /// has it, instead of the `liquid` crate's "Unknown variable".
    /// (`size`, when the object has no such key, is left to the `liquid` crate, which counts the
    /// keys as LiquidJS does.)
    fn contains_key(&self, index: &str) -> bool {
        index != "size" || Object::contains_key(self, index)
    }
    fn get<'s>(&'s self, index: &str) -> Option<&'s dyn ValueView> {
        match Object::get(self, index) {
            Some(v) => Some(v),
            None if index == "size" => None,
            None => Some(&UNDEFINED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn liquid(template: &str, payload: &str) -> String {
        let p = Value::parse(payload).expect("json");
        match evaluate(&Value::String(template.to_owned()), &p) {
            Ok(v) => v.as_str().unwrap_or_default().to_owned(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn a_number_literal_too_long_for_the_liquid_crate_is_refused_not_a_panic() {
        // Found by fuzzing: the liquid crate's parser panics on an integer beyond i64.
        let long = "8".repeat(100);
        assert_eq!(
            liquid(&format!("{{% if {long}a %}}x{{% endif %}}"), "{}"),
            "error: number literals of more than 18 digits are not supported by this port, line:1, col:1"
        );
        assert!(
            liquid(&format!("{{{{ 1 | plus: {long} }}}}"), "{}")
                .starts_with("error: number literals")
        );
        // Digits in text, in quoted strings, and 18-digit literals are fine.
        assert_eq!(
            liquid(&format!("{long} {{{{ \"{long}\" | size }}}}"), "{}"),
            format!("{long} 100")
        );
        // (An 18-digit literal is read, and added to as JavaScript does, in doubles.)
        assert_eq!(
            liquid("{{ 100000000000000000 | plus: 1 }}", "{}"),
            "100000000000000000"
        );
    }

    #[test]
    fn renders_variables_tags_and_filters() {
        let p = r#"{"properties":{"world":"earth","n":1.5,"t":true,"l":[1,"x"],"o":{"k":1}}}"#;
        assert_eq!(
            liquid("Hello, {{ properties.world }} !", p),
            "Hello, earth !"
        );
        assert_eq!(
            liquid(
                r#"{% if properties.world == "earth" %}Hello {{ properties.world | upcase }}{% else %} Hello World {% endif %}"#,
                p
            ),
            "Hello EARTH"
        );
        assert_eq!(
            liquid(
                "{{ properties.n }}|{{ properties.t }}|{{ properties.l }}|{{ properties.o }}",
                p
            ),
            "1.5|true|1x|[object Object]"
        );
        assert_eq!(liquid("test", p), "test");
        assert_eq!(liquid("", p), "");
    }

    #[test]
    fn missing_variables_render_as_nothing() {
        let p = r#"{"a":{},"l":[1],"o":{"x":1,"y":2}}"#;
        assert_eq!(
            liquid(
                "[{{ nope }}|{{ a.b }}|{{ l[5] }}|{{ x.y.z }}|{{ x.size }}]",
                p
            ),
            "[||||]"
        );
        assert_eq!(
            liquid("{{ o.size }} {{ l.size }} {{ l.first }} {{ l[-1] }}", p),
            "2 1 1 1"
        );
        assert_eq!(liquid("{% if nope %}x{% else %}y{% endif %}", p), "y");
        // Through scalars and arrays as LiquidJS reads them.
        let p = r#"{"s":"a😀","n":5,"l":[1,2]}"#;
        assert_eq!(
            liquid(
                "[{{ s.size }}|{{ s.x }}|{{ n.x }}|{{ n.size }}|{{ l.x }}|{{ l.last }}|{{ l }}]",
                p
            ),
            "[3|||||2|12]"
        );
    }

    #[test]
    fn disabled_tags_fail_with_segments_message_and_position() {
        for tag in DISABLED_TAGS {
            assert_eq!(
                liquid(&format!("{{% {tag} %}} , {{{{ properties.test }}}}"), "{}"),
                format!("error: tag \"{tag}\" is disabled, line:1, col:1")
            );
        }
        assert_eq!(
            liquid("ab\n {% case x %}{% endcase %}", "{}"),
            "error: tag \"case\" is disabled, line:2, col:2"
        );
        assert_eq!(liquid("{% raw %}{% for %}{% endraw %}", "{}"), "{% for %}");
    }

    #[test]
    fn disabled_filters_fail_when_they_run() {
        for filter in DISABLED_FILTERS {
            assert_eq!(
                liquid(&format!("{{{{ a | {filter} }}}}"), r#"{"a":[1]}"#),
                format!("error: filter \"{filter}\" is disabled, line:1, col:1")
            );
        }
        assert_eq!(
            liquid(r#"x {{ a | map: "b" }}"#, r#"{"a":[]}"#),
            "error: filter \"map\" is disabled, line:1, col:3"
        );
        assert_eq!(
            liquid(
                r#"{% if false %}{{ a | map: "b" }}{% endif %}ok"#,
                r#"{"a":[]}"#
            ),
            "ok"
        );
    }

    #[test]
    fn arithmetic_is_javascript_arithmetic() {
        let p = r#"{"i":3,"s":" 12 ","n":null,"l":[4]}"#;
        assert_eq!(
            liquid(
                "{{ i | divided_by: 2 }} {{ nope | plus: 1 }} {{ s | times: 2 }} {{ l | minus: 1 }} {{ i | modulo: 2 }} {{ i | divided_by: 0 }} {{ 0.1 | plus: 0.2 }}",
                p
            ),
            "1.5 1 24 3 1 Infinity 0.30000000000000004"
        );
    }

    #[test]
    fn unknown_tags_and_filters_are_as_in_liquidjs() {
        assert_eq!(
            liquid("{% bogus %}", "{}"),
            "error: tag \"bogus\" not found, line:1, col:1"
        );
        assert_eq!(
            liquid("a\n{% endif %}", "{}"),
            "error: tag \"endif\" not found, line:2, col:1"
        );
        assert_eq!(
            liquid("{{ a | nofilter: 1 | upcase }}", r#"{"a":"x"}"#),
            "X"
        );
        assert_eq!(
            liquid("{{ a | json }}", r#"{"a":"x"}"#),
            "error: filter \"json\" is not supported by this port, line:1, col:1"
        );
        assert_eq!(
            liquid("{% if x %}", "{}"),
            "error: Unclosed block. {% endif %} tag expected., line:1, col:11"
        );
    }

    #[test]
    fn the_date_filter_reads_no_clock() {
        assert_eq!(
            liquid("{{ 'now' | date: '%Y' }}", "{}"),
            "error: filter \"date\" of \"now\" reads the clock, which this port does not"
        );
        assert_eq!(
            liquid("{{ 'today' | date: '%Y' }}", "{}").get(..6),
            Some("error:")
        );
        assert_eq!(
            liquid("{{ '2024-03-01 10:00:00 +0000' | date: '%Y' }}", "{}"),
            "2024"
        );
    }

    #[test]
    fn templates_are_limited_to_1000_characters() {
        let long = format!("{{{{ a }}}}{}", "a".repeat(1000));
        assert_eq!(
            liquid(&long, "{}"),
            "error: liquid template values are limited to 1000 characters"
        );
        assert_eq!(liquid(&"a".repeat(1000), "{}"), "a".repeat(1000));
    }
}
