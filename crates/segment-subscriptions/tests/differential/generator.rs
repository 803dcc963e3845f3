//! A seeded, structure-aware generator of (trigger, event) pairs: triggers built from the
//! grammar's parts (every field, operator, function, literal shape and joiner, with odd spacing,
//! quotes, escapes and unicode), then now and then broken (a token dropped, a character
//! inserted, the text cut); events whose fields the triggers name, with the edge shapes
//! (missing, `null`, numbers beside numeric strings, case, unicode, nesting, arrays).

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

/// A pinned, portable random source.
pub(crate) struct Gen {
    rng: ChaCha8Rng,
}

/// Strings that triggers and events share, so that comparisons match as often as they miss.
const WORDS: &[&str] = &[
    "track",
    "identify",
    "page",
    "group",
    "Order Completed",
    "order completed",
    "Product Added",
    "Home",
    "",
    "abc",
    "ab",
    "5",
    "12",
    "-1.5",
    " 12 ",
    "0x10",
    "1e3",
    "true",
    "null",
    "eos",
    "😀x",
    "x😀",
    "é",
    "Straße",
    "a b",
    "*",
];

/// Keys of `properties`, `traits` and `context` paths, built-in names included.
const KEYS: &[&str] = &[
    "a",
    "b",
    "price",
    "plan",
    "items",
    "0",
    "1",
    "length",
    "total",
    "x-y",
    "é",
    "a b",
    "map",
    "toString",
    "constructor",
    "ip",
];

/// Operator texts as they are written between a field and a value.
const OPERATORS: &[&str] = &[
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "not_ends_with",
    "not_starts_with",
    "number_equals",
    "number_not_equals",
    "exists",
    "not_exists",
    "is_true",
    "is_false",
];

impl Gen {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// One pair.
    pub(crate) fn pair(&mut self) -> (String, Value) {
        let trigger = self.trigger();
        let event = self.event();
        (trigger, event)
    }

    // ---- triggers ----

    fn trigger(&mut self) -> String {
        if self.chance(8) {
            return self.soup();
        }
        let clauses = 1 + self.below(4);
        let mut out = String::new();
        for i in 0..clauses {
            if i > 0 {
                let joiner = if self.chance(60) { "and" } else { "or" };
                out.push_str(&self.space());
                out.push_str(joiner);
                out.push_str(&self.space());
            }
            if self.chance(15) {
                let inner = 1 + self.below(3);
                let mut group = String::new();
                for j in 0..inner {
                    if j > 0 {
                        group.push_str(if self.chance(50) { " and " } else { " or " });
                    }
                    group.push_str(&self.clause());
                }
                let open = if self.chance(10) { "!(" } else { "(" };
                out.push_str(&format!("{open}{group})"));
            } else {
                out.push_str(&self.clause());
            }
        }
        if self.chance(12) {
            out = self.break_text(out);
        }
        out
    }

    /// Usually one space; sometimes none, several, a tab or a newline.
    fn space(&mut self) -> String {
        match self.below(20) {
            0 => String::new(),
            1 => "  ".to_owned(),
            2 => "\t".to_owned(),
            3 => "\n".to_owned(),
            _ => " ".to_owned(),
        }
    }

    fn clause(&mut self) -> String {
        match self.below(10) {
            0 | 1 => self.function(),
            _ => {
                let field = self.field();
                let op = self.operator();
                let value = self.value();
                // `!=` and `<` glued to their value are lexer edge cases worth hitting.
                let (a, b) = if self.chance(8) {
                    (String::new(), String::new())
                } else {
                    (" ".to_owned(), self.space())
                };
                format!("{field}{a}{op}{b}{value}")
            }
        }
    }

    fn function(&mut self) -> String {
        let negate = if self.chance(30) { "!" } else { "" };
        let field = self.function_field();
        if self.chance(50) {
            let value = self.value();
            format!("{negate}contains({field}, {value})")
        } else {
            let word = self.word_literal_text();
            let pattern = match self.below(4) {
                0 => format!("\"{word}*\""),
                1 => format!("\"*{word}\""),
                2 => format!("\"{word}\""),
                _ => self.value(),
            };
            format!("{negate}match({field}, {pattern})")
        }
    }

    fn function_field(&mut self) -> String {
        match self.below(8) {
            0 => "event".to_owned(),
            1 => "name".to_owned(),
            2 => "userId".to_owned(),
            3 => "type".to_owned(),
            4 => format!("traits.{}", self.path()),
            5 => format!("context.{}", self.path()),
            _ => format!("properties.{}", self.path()),
        }
    }

    fn field(&mut self) -> String {
        match self.below(16) {
            0..=2 => "type".to_owned(),
            3 | 4 => "event".to_owned(),
            5 => "name".to_owned(),
            6 => "userId".to_owned(),
            7 | 8 => format!("traits.{}", self.path()),
            9 => format!("context.{}", self.path()),
            10 => {
                (*self.pick(&["anonymousId", "typo", "toString", "Type", "properties"])).to_owned()
            }
            _ => format!("properties.{}", self.path()),
        }
    }

    /// `a`, `a.b`, `items[0].price`, `a\ b`, …
    fn path(&mut self) -> String {
        let depth = 1 + self.below(3);
        let mut out = String::new();
        for i in 0..depth {
            let key = *self.pick(KEYS);
            let written = match key {
                "a b" => "a\\ b".to_owned(),
                // A digit after a dot lexes as a number: escape it. Brackets after an identifier are a
                // lexer error in fql-ts, so they are rare here.
                "0" | "1" if i > 0 && self.chance(15) => {
                    out.push_str(&format!("[{key}]"));
                    continue;
                }
                "0" | "1" => format!("\\{key}"),
                // Non-ASCII letters are not identifier characters: escape each.
                "é" => "\\é".to_owned(),
                k => k.to_owned(),
            };
            if i > 0 {
                out.push('.');
            }
            out.push_str(&written);
        }
        out
    }

    /// One of the package's operators, now and then one it does not know.
    fn operator(&mut self) -> String {
        if self.chance(2) {
            return (*self.pick(&["foo", "~", "=="])).to_owned();
        }
        (*self.pick(OPERATORS)).to_owned()
    }

    fn word_literal_text(&mut self) -> String {
        let word = *self.pick(WORDS);
        // Strings cannot hold their own quote.
        word.replace('"', "")
    }

    /// A value literal: strings (double or single quoted), numbers of every shape, `true`,
    /// `false`, `null`, a bare identifier.
    fn value(&mut self) -> String {
        match self.below(20) {
            0..=7 => format!("\"{}\"", self.word_literal_text()),
            8 => format!("'{}'", self.word_literal_text()),
            9 => (*self.pick(&[
                "5", "0", "-1.5", "+3", "007", "1.", "12.50", "100", "-0", "-",
            ]))
            .to_owned(),
            10 => "99999999999999999999999".to_owned(),
            11 | 12 => "true".to_owned(),
            13 => "false".to_owned(),
            14 | 15 => "null".to_owned(),
            16 => (*self.pick(&["track", "abc", "identify"])).to_owned(),
            _ => format!("{}", self.below(20)),
        }
    }

    /// Pieces of the grammar in any order: the lexer's and the parser's odd paths.
    fn soup(&mut self) -> String {
        const PIECES: &[&str] = &[
            "type",
            "event",
            "name",
            "userId",
            "properties",
            "traits.a",
            "context.ip",
            "contains",
            "match",
            "and",
            "or",
            "null",
            "true",
            "false",
            "an",
            "nul",
            "o",
            "=",
            "!",
            "!=",
            "<",
            ">",
            "<=",
            ">=",
            "(",
            ")",
            ",",
            ".",
            "[",
            "]",
            "\"",
            "'",
            "\\",
            " ",
            " ",
            " ",
            "\t",
            "\n",
            "0",
            "1.",
            "1.5",
            "-",
            "+",
            "*",
            "_",
            "é",
            "😀",
            "a",
            "\"x\"",
            "\"a*\"",
            "\"*a\"",
            "toString",
        ];
        let n = 1 + self.below(12);
        (0..n).map(|_| *self.pick(PIECES)).collect()
    }

    /// A trigger made malformed: a character dropped or inserted, the text cut short.
    fn break_text(&mut self, text: String) -> String {
        let chars: Vec<char> = text.chars().collect();
        if chars.is_empty() {
            return text;
        }
        let at = self.below(chars.len());
        match self.below(5) {
            0 => chars[..at].iter().collect(),
            1 => chars
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != at)
                .map(|(_, c)| *c)
                .collect(),
            2 => {
                let insert = *self.pick(&[
                    '(', ')', '"', '\'', '!', '*', '\r', '.', ',', '\\', 'é', '[',
                ]);
                let mut out: String = chars[..at].iter().collect();
                out.push(insert);
                out.extend(&chars[at..]);
                out
            }
            3 => format!("({text}"),
            _ => format!("(({text}))"),
        }
    }

    // ---- events ----

    fn event(&mut self) -> Value {
        let mut event = Map::new();
        if self.chance(95) {
            let ty = *self.pick(&["track", "identify", "page", "group", "Track", "screen"]);
            event.insert("type".to_owned(), json!(ty));
        }
        for key in ["event", "name", "userId"] {
            if self.chance(60) {
                let v = self.scalar();
                event.insert(key.to_owned(), v);
            }
        }
        for key in ["properties", "traits", "context"] {
            if self.chance(85) {
                let v = if self.chance(95) {
                    self.object(0)
                } else {
                    self.scalar()
                };
                event.insert(key.to_owned(), v);
            }
        }
        Value::Object(event)
    }

    fn scalar(&mut self) -> Value {
        match self.below(12) {
            0 => Value::Null,
            1 => json!(true),
            2 => json!(false),
            3 => json!(*self.pick(&[0.0, 5.0, -1.5, 12.5, 100.0, 1e21, 16.0, 3.0, -0.0])),
            4 => json!(self.below(20)),
            _ => json!(*self.pick(WORDS)),
        }
    }

    fn object(&mut self, depth: usize) -> Value {
        let mut map = Map::new();
        let n = self.below(5);
        for _ in 0..n {
            let key = *self.pick(KEYS);
            let value = self.nested(depth);
            map.insert(key.to_owned(), value);
        }
        Value::Object(map)
    }

    fn nested(&mut self, depth: usize) -> Value {
        if depth >= 3 {
            return self.scalar();
        }
        match self.below(8) {
            0 => self.object(depth + 1),
            1 => {
                let n = self.below(3);
                Value::Array((0..n).map(|_| self.nested(depth + 1)).collect())
            }
            _ => self.scalar(),
        }
    }
}
