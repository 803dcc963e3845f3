//! The seeded, structure-aware case generator: `{"mapping", "payload"[, "fields"]}` lines for
//! every directive, nested, with the edge shapes of the spec (`/work/shared/reference`'s
//! segment-mapping-kit.md §2–§8), realistic Talon.One (Actions) mappings with their actions' field
//! definitions, and invalid mappings for the validator. Every line carries a family name, so a
//! reported difference says what kind of case it is; `@liquid` has a family of its own.
//!
//! One `ChaCha8Rng` from the seed drives every choice through `below` (multiply-shift on raw
//! `u32`s, as `segment-gen` does), so the same seed and count give the same lines on every
//! platform and `rand` version.

use crate::json::{J, arr, dir, int, n, obj, path, s};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One generated input line and the family that made it.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) family: &'static str,
    pub(crate) line: String,
}

/// The families and their weights (out of the sum). Every directive has its own family, so a
/// difference is labelled by the directive under test; `nested` mixes them all at random.
pub(crate) const FAMILIES: &[(&str, u32)] = &[
    ("path", 6),
    ("template", 6),
    ("literal", 2),
    ("if", 5),
    ("case", 3),
    ("replace", 5),
    ("arrayPath", 4),
    ("json", 4),
    ("flatten", 4),
    ("merge", 4),
    ("transform", 3),
    ("excludeWhenNull", 3),
    ("liquid", 3),
    ("nested", 12),
    ("validate", 8),
    ("root", 2),
    ("keyorder", 2),
    ("numbers", 2),
    ("unicode", 2),
    ("talon", 10),
    ("fields", 10),
    ("deep", 1),
];

/// The family called `name`, as a `'static` name.
pub(crate) fn family_name(name: &str) -> Option<&'static str> {
    FAMILIES.iter().map(|(f, _)| *f).find(|f| *f == name)
}

/// `count` cases from `seed`.
pub(crate) fn cases(seed: u64, count: usize) -> Vec<Case> {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
    };
    let total: u32 = FAMILIES.iter().map(|(_, w)| w).sum();
    (0..count)
        .map(|i| {
            // The first lines go through every family once, so even a tiny run covers them all.
            let family = if i < FAMILIES.len() {
                FAMILIES[i].0
            } else {
                let mut pick = g.below(total as usize) as u32;
                let mut chosen = FAMILIES[0].0;
                for (name, weight) in FAMILIES {
                    if pick < *weight {
                        chosen = name;
                        break;
                    }
                    pick -= weight;
                }
                chosen
            };
            let (mapping, payload, fields) = g.family(family);
            let mut entries = vec![
                ("mapping".to_owned(), mapping),
                ("payload".to_owned(), payload),
            ];
            if let Some(fields) = fields {
                entries.push(("fields".to_owned(), fields));
            }
            Case {
                family,
                line: J::Obj(entries).text(),
            }
        })
        .collect()
}

type Triple = (J, J, Option<J>);

struct Gen {
    rng: ChaCha8Rng,
}

// ---------------------------------------------------------------------------------------------
// Vocabularies.

/// Keys of generated payloads: plain, index-like, spaced, non-ASCII, and ones that are JS property
/// names of strings and arrays (`length`).
const KEYS: &[&str] = &[
    "a", "b", "c", "n", "s", "e", "z", "f", "t", "nul", "arr", "obj", "0", "1", "10", "x y", "é",
    "traits", "name", "length",
];

/// Leaf values: every falsy value, JS number formats, strings that are templates, JSON text,
/// `$` patterns, coercible text, unicode.
const LEAVES: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "-0",
    "1",
    "1.5",
    "1e21",
    "1e-7",
    "0.30000000000000004",
    "12345678901234567890",
    "1.0",
    "-12",
    "4294967295",
    r#""""#,
    r#"" ""#,
    r#""0""#,
    r#""a""#,
    r#""hello world""#,
    r#""UPPER lower""#,
    r#""straße""#,
    r#""İ""#,
    r#""ΟΔΟΣ""#,
    r#""a$&b$$c""#,
    r#""{{a}}""#,
    r#""{{{b}}}""#,
    r#""🎉 ok""#,
    r#""line\nbreak""#,
    r#""\u2028sep""#,
    r#""[1]""#,
    r#""{\"k\":1,\"0\":2}""#,
    r#""123""#,
    r#""true""#,
    r#""false""#,
    r#""not json{""#,
    r#""0x10""#,
    r#"" 7 ""#,
    r#""2026-01-01T00:00:00Z""#,
    r#""not a date""#,
    r#""a@b.co""#,
    r#""1e3""#,
    r#""banana""#,
    r#""many+different+things""#,
];

const CONTAINERS: &[&str] = &[
    "[]",
    r#"[""]"#,
    "[null]",
    "[[]]",
    "[0]",
    r#"[1,"x",null,[2,3]]"#,
    "{}",
    r#"{"k":null}"#,
    r#"{"a":1,"b":{"c":null,"d":""}}"#,
    r#"["one"]"#,
    r#"[{"a":1}]"#,
    r#"{"2":"two","b":1,"1":"one"}"#,
];

/// Paths in every syntax mapping-kit's `get` accepts, and the odd ones (§2.3).
const PATH_FORMS: &[&str] = &[
    "$.a",
    "$.a.b",
    "a.b",
    "$.a.b.c",
    "$.arr[0]",
    "$.arr.1",
    "$.arr[1][0]",
    "['a'].b",
    "[\"a\"].b",
    "$.a..b",
    "$.a.",
    "$.",
    "",
    ".",
    "$",
    "a.$.b",
    "$.s.length",
    "$.arr.length",
    "$.x y",
    "$.it's",
    "$.missing",
    "$.missing.deep",
    "$.nul.x",
    "$.z.x",
    "$.f.x",
    "$.e.x",
    "$.obj.k",
    "$.obj",
    "$.0",
    "$.1.a",
    "$.10",
    "$.é",
    "$.traits",
    "$.traits.name",
    "$.name",
    "$.t",
    "$.n",
    "$.a[\"b.c\"]",
    "$.obj.0",
    "[txt] non",
    "$.traits['name']",
];

// ---------------------------------------------------------------------------------------------

impl Gen {
    fn below(&mut self, bound: usize) -> usize {
        ((u64::from(self.rng.next_u32()) * bound as u64) >> 32) as usize
    }

    /// `true` with probability `num / den`.
    fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn leaf(&mut self) -> J {
        raw(self.pick(LEAVES))
    }

    fn value(&mut self, depth: usize) -> J {
        match self.below(10) {
            0..=5 => self.leaf(),
            6 | 7 => raw(self.pick(CONTAINERS)),
            8 if depth > 0 => {
                let len = self.below(4);
                J::Arr((0..len).map(|_| self.value(depth - 1)).collect())
            }
            _ if depth > 0 => self.object(depth - 1),
            _ => self.leaf(),
        }
    }

    /// An object with distinct keys from `KEYS`.
    fn object(&mut self, depth: usize) -> J {
        let len = 1 + self.below(4);
        let mut entries: Vec<(String, J)> = Vec::new();
        for _ in 0..len {
            let key = self.pick(KEYS);
            if entries.iter().all(|(k, _)| k != key) {
                let value = self.value(depth);
                entries.push((key.to_owned(), value));
            }
        }
        J::Obj(entries)
    }

    /// A payload whose keys the paths of `PATH_FORMS` hit: every top-level key present, each with
    /// a drawn value (a nested object now and then).
    fn payload(&mut self) -> J {
        let mut entries = Vec::new();
        for key in [
            "a", "arr", "s", "nul", "z", "f", "e", "t", "n", "obj", "0", "1", "10", "x y", "é",
            "it's", "its", "name",
        ] {
            if self.chance(1, 8) {
                continue;
            }
            let value = match key {
                "a" if self.chance(3, 4) => {
                    let b = if self.chance(1, 2) {
                        self.object(1)
                    } else {
                        self.value(1)
                    };
                    obj([("b", b), ("b.c", self.leaf()), ("c", self.value(1))])
                }
                "arr" => {
                    let len = self.below(4);
                    J::Arr((0..len).map(|_| self.value(1)).collect())
                }
                "s" => self.pick_str(),
                "nul" => J::Null,
                "z" => n(self.pick(&["0", "-0"])),
                "f" => J::Bool(false),
                "e" => s(""),
                "t" => J::Bool(true),
                "n" => self.leaf(),
                "obj" => self.object(1),
                "1" => obj([("a", self.leaf())]),
                _ => self.value(1),
            };
            entries.push((key.to_owned(), value));
        }
        if self.chance(1, 2) {
            entries.push(("traits".to_owned(), self.object(1)));
        }
        J::Obj(entries)
    }

    fn pick_str(&mut self) -> J {
        loop {
            let leaf = self.leaf();
            if matches!(leaf, J::Str(_)) {
                return leaf;
            }
        }
    }

    fn path_text(&mut self) -> String {
        self.pick(PATH_FORMS).to_owned()
    }

    fn path(&mut self) -> J {
        path(self.pick(PATH_FORMS))
    }

    // --- Random mappings ------------------------------------------------------------------------

    /// A random mapping of the given depth: any directive but `@liquid`, raw objects, arrays,
    /// literals.
    fn mapping(&mut self, depth: usize) -> J {
        if depth == 0 {
            return match self.below(6) {
                0..=3 => self.path(),
                4 => self.leaf(),
                _ => dir("@template", s(&self.template_text())),
            };
        }
        let d = depth - 1;
        match self.below(17) {
            0 => self.d_path(d),
            1 => self.d_template(d),
            2 => self.d_literal(d),
            3 => self.d_if(d),
            4 => self.d_case(d),
            5 => self.d_replace(d),
            6 => self.d_array_path(d),
            7 => self.d_json(d),
            8 => self.d_flatten(d),
            9 => self.d_merge(d),
            10 => self.d_transform(d),
            11 => self.d_exclude(d),
            12 | 13 => {
                let len = 1 + self.below(3);
                let mut entries = Vec::new();
                for i in 0..len {
                    let key = self.pick(&["x", "y", "0", "1", "k z", "@at"]).to_owned();
                    let key = if key == "@at" && !self.chance(1, 4) {
                        format!("k{i}")
                    } else {
                        key
                    };
                    if entries.iter().all(|(k, _)| *k != key) && !key.starts_with('@') {
                        let value = self.mapping(d);
                        entries.push((key, value));
                    }
                }
                J::Obj(entries)
            }
            14 => {
                let len = self.below(3);
                J::Arr((0..len).map(|_| self.mapping(d)).collect())
            }
            15 => self.path(),
            _ => self.leaf(),
        }
    }

    /// An argument that is mostly small: a path, a leaf, or a nested mapping.
    fn arg(&mut self, depth: usize) -> J {
        match self.below(5) {
            0 | 1 => self.path(),
            2 => self.leaf(),
            _ => self.mapping(depth),
        }
    }

    fn template_text(&mut self) -> String {
        let mut text = String::new();
        for _ in 0..1 + self.below(3) {
            let piece = match self.below(12) {
                0 => format!("{{{{{}}}}}", self.path_text()),
                1 => format!("{{{{{{{}}}}}}}", self.path_text()),
                2 => format!(
                    "{{{{ {} }}}}",
                    self.pick(&["a", "a.b", "arr", "n", "s", "obj", "nul", "z"])
                ),
                3 => self
                    .pick(&[
                        "{{}}",
                        "{{ }}",
                        "{{{{a}}}}",
                        "{{a}}}",
                        "{{{a}}",
                        "{{$.a}}",
                        "{{a.b}}",
                        "{",
                        "}}",
                        "$&$$",
                    ])
                    .to_owned(),
                4 => format!(
                    "{{{{{}}}}}",
                    self.pick(&[
                        "n", "arr", "obj", "t", "f", "z", "e", "nul", "a.b", "a.c", "1.a", "10"
                    ])
                ),
                5 => format!("{{{{{{{}}}}}}}", self.pick(&["s", "a.b", "n"])),
                _ => self
                    .pick(&["hi ", "-", " / ", "x", "é", "🎉", "$1", "a\nb", ""])
                    .to_owned(),
            };
            text.push_str(&piece);
        }
        text
    }

    fn d_path(&mut self, depth: usize) -> J {
        match self.below(12) {
            0 => dir("@path", self.mapping(depth)),
            1 => dir(
                "@path",
                dir("@template", s(&format!("$.{}", self.pick(KEYS)))),
            ),
            2 => dir("@path", self.leaf()),
            _ => self.path(),
        }
    }

    fn d_template(&mut self, depth: usize) -> J {
        match self.below(10) {
            0 => dir("@template", self.mapping(depth)),
            1 => dir("@template", self.leaf()),
            2 => dir("@template", self.path()),
            _ => dir("@template", s(&self.template_text())),
        }
    }

    fn d_literal(&mut self, depth: usize) -> J {
        match self.below(4) {
            0 => dir("@literal", self.value(2)),
            1 => dir("@literal", self.mapping(depth)),
            2 => dir(
                "@literal",
                obj([("a", self.mapping(depth)), ("b", dir("@oops", int(1)))]),
            ),
            _ => dir("@literal", obj([("a", self.path()), ("b", self.leaf())])),
        }
    }

    fn falsy(&mut self) -> J {
        raw(self.pick(&["0", "false", "null", r#""""#]))
    }

    fn d_if(&mut self, depth: usize) -> J {
        let mut opts: Vec<(String, J)> = Vec::new();
        match self.below(16) {
            0 => opts.push(("exists".into(), self.falsy())),
            1 => opts.push(("blank".into(), self.falsy())),
            2 => {
                let a = self.arg(depth);
                opts.push(("exists".into(), a));
                let b = self.arg(depth);
                opts.push(("blank".into(), b));
            }
            3 => {
                // blank over the loose-equality table: [] [""] [null] [[]] [0] "0" " " {} 0 false 1 true
                let v = raw(self.pick(&[
                    "[]",
                    r#"[""]"#,
                    "[null]",
                    "[[]]",
                    "[0]",
                    r#""0""#,
                    r#"" ""#,
                    "{}",
                    "0",
                    "false",
                    "1",
                    "true",
                    r#"[" "]"#,
                    "[[[]]]",
                    r#"[[""]]"#,
                ]));
                opts.push(("blank".into(), dir("@literal", v)));
            }
            4 => {}
            5 => opts.push((
                "blank".into(),
                dir(
                    "@literal",
                    raw(self.pick(&["[]", r#"[""]"#, "[0]", "{}", "0"])),
                ),
            )),
            _ => {
                let key = if self.chance(1, 2) { "exists" } else { "blank" };
                let a = self.arg(depth);
                opts.push((key.into(), a));
            }
        }
        if self.chance(4, 5) {
            let then = if self.chance(1, 3) {
                self.falsy()
            } else {
                self.arg(depth)
            };
            opts.push(("then".into(), then));
        }
        if self.chance(3, 4) {
            let els = if self.chance(1, 3) {
                self.falsy()
            } else {
                self.arg(depth)
            };
            opts.push(("else".into(), els));
        }
        if self.chance(1, 20) {
            return dir("@if", self.leaf());
        }
        dir("@if", J::Obj(opts))
    }

    fn d_case(&mut self, depth: usize) -> J {
        let mut opts: Vec<(String, J)> = Vec::new();
        match self.below(10) {
            0 => {}
            1 => opts.push((
                "operator".into(),
                raw(self.pick(&["\"UPPER\"", "\"title\"", "1", "\"\"", "null"])),
            )),
            _ => opts.push(("operator".into(), s(self.pick(&["lower", "upper"])))),
        }
        match self.below(10) {
            0 => {}
            1 => opts.push(("value".into(), s(""))),
            2 => opts.push(("value".into(), self.leaf())),
            3 | 4 => {
                let v = s(self.pick(&[
                    "straße",
                    "İstanbul",
                    "ΟΔΟΣ",
                    "Hello World",
                    "ǅ",
                    "ﬃ",
                    "ŉ",
                    "Σ",
                    "aΣ b",
                    "ΑΣ.",
                    "\u{1F600}x",
                    "ΰ",
                ]));
                opts.push(("value".into(), v));
            }
            _ => {
                let a = self.arg(depth);
                opts.push(("value".into(), a));
            }
        }
        if self.chance(1, 12) {
            return dir("@case", self.leaf());
        }
        if opts.len() == 2 && self.chance(1, 2) {
            opts.reverse();
        }
        dir("@case", J::Obj(opts))
    }

    fn d_replace(&mut self, depth: usize) -> J {
        const PATTERNS: &[&str] = &[
            "a",
            "+",
            "many+",
            ".",
            "-",
            "[",
            "]",
            "{}",
            "()",
            "*",
            "?",
            "\\",
            "^",
            "$",
            "|",
            "#",
            " ",
            ",",
            "A",
            "ß",
            "ẞ",
            "aaabbbcccd",
            "aaabbbcccde",
            "",
            "é",
            "🎉",
            "an",
            "N",
            "\n",
        ];
        const REPLACEMENTS: &[&str] = &[
            "",
            "_",
            "[$&]",
            "$$",
            "$`",
            "$'",
            "$1",
            "$",
            "$<x>",
            "x",
            "0123456789",
            "01234567890",
            "🎉",
            "$0",
        ];
        let mut opts: Vec<(String, J)> = Vec::new();
        match self.below(14) {
            0 => {}
            1 => opts.push(("pattern".into(), self.leaf())),
            2 => opts.push(("pattern".into(), self.path())),
            _ => opts.push(("pattern".into(), s(self.pick(PATTERNS)))),
        }
        match self.below(8) {
            0 => {}
            1 => opts.push(("replacement".into(), raw(self.pick(&["null", "1", "true"])))),
            _ => opts.push(("replacement".into(), s(self.pick(REPLACEMENTS)))),
        }
        if self.chance(1, 4) {
            opts.push(("pattern2".into(), s(self.pick(PATTERNS))));
            if self.chance(2, 3) {
                opts.push(("replacement2".into(), s(self.pick(REPLACEMENTS))));
            }
        }
        if self.chance(1, 4) {
            opts.push((
                "ignorecase".into(),
                raw(self.pick(&["true", "false", "true", "false", "\"yes\""])),
            ));
        }
        if self.chance(1, 4) {
            opts.push((
                "global".into(),
                raw(self.pick(&["true", "false", "true", "false", "\"no\""])),
            ));
        }
        match self.below(10) {
            0 => {}
            1 => opts.push(("value".into(), self.falsy())),
            2 | 3 => {
                let v = s(self.pick(&[
                    "banana",
                    "many+different+things",
                    "abab",
                    "a.b.c",
                    "Straße STRASSE",
                    "$a$",
                    "x-y-z",
                    "AaAa",
                    "[1]",
                    "{}",
                    "🎉a🎉",
                ]));
                opts.push(("value".into(), v));
            }
            4 => opts.push(("value".into(), self.leaf())),
            _ => {
                let a = self.arg(depth);
                opts.push(("value".into(), a));
            }
        }
        dir("@replace", J::Obj(opts))
    }

    fn shape(&mut self, depth: usize) -> J {
        match self.below(8) {
            0 => obj([]),
            1 => obj([("len", path("$.length")), ("self", path("$."))]),
            2 => obj([(
                "t",
                dir(
                    "@transform",
                    obj([
                        ("apply", obj([("v", path("$.a"))])),
                        ("mapping", obj([("w", path("$.v"))])),
                    ]),
                ),
            )]),
            _ => {
                let len = 1 + self.below(3);
                let mut entries: Vec<(String, J)> = Vec::new();
                for _ in 0..len {
                    let key = self.pick(&["a", "b", "name", "0", "id"]);
                    if entries.iter().all(|(k, _)| k != key) {
                        let v = if self.chance(1, 2) {
                            self.path()
                        } else {
                            self.mapping(depth)
                        };
                        entries.push((key.to_owned(), v));
                    }
                }
                J::Obj(entries)
            }
        }
    }

    fn d_array_path(&mut self, depth: usize) -> J {
        match self.below(20) {
            0 => dir("@arrayPath", s("$.arr")),
            1 => dir("@arrayPath", arr([])),
            2 => dir("@arrayPath", arr([self.path(), self.shape(depth)])),
            3 => dir(
                "@arrayPath",
                arr([s("$.arr"), self.shape(depth), self.leaf()]),
            ),
            4 => dir("@arrayPath", arr([self.leaf(), self.shape(depth)])),
            5 => dir("@arrayPath", arr([s(&self.path_text())])),
            6 => dir("@arrayPath", arr([s(&self.path_text()), self.value(1)])),
            _ => {
                let p = s(self.pick(&[
                    "$.arr",
                    "$.obj",
                    "$.a",
                    "$.a.b",
                    "$.traits",
                    "$.missing",
                    "$.nul",
                    "$.s",
                    "arr",
                ]));
                dir("@arrayPath", arr([p, self.shape(depth)]))
            }
        }
    }

    fn d_json(&mut self, depth: usize) -> J {
        let mut opts: Vec<(String, J)> = Vec::new();
        match self.below(10) {
            0 => {}
            1 => opts.push((
                "mode".into(),
                raw(self.pick(&["\"ENCODE\"", "\"Decode\"", "\"oops\"", "\"\"", "1"])),
            )),
            _ => opts.push(("mode".into(), s(self.pick(&["encode", "decode"])))),
        }
        match self.below(10) {
            0 => {}
            1 => opts.push(("value".into(), self.falsy())),
            2 | 3 => {
                let text = self.pick(&[
                    "[1]",
                    " [1] ",
                    "{\"b\":1,\"2\":2,\"a\":3,\"1\":4}",
                    "\"bar\"",
                    "123",
                    "null",
                    "1e21",
                    "-0",
                    "not json",
                    "{\"a\":",
                    "{\"a\":1,\"a\":2}",
                    "\"\\u2028\\u0007\"",
                    "[1.0, 1e-7, 0.1]",
                    "true",
                ]);
                opts.push(("value".into(), s(text)));
            }
            _ => {
                let a = self.arg(depth);
                opts.push(("value".into(), a));
            }
        }
        dir("@json", J::Obj(opts))
    }

    fn d_flatten(&mut self, depth: usize) -> J {
        let mut opts: Vec<(String, J)> = Vec::new();
        match self.below(12) {
            0 => {}
            1 | 2 => opts.push((
                "value".into(),
                raw(self.pick(&[
                    r#"{"a.b":1,"a":{"b":2}}"#,
                    r#"{"":{"a":1},"b":{"":2}}"#,
                    r#"{"a":{},"b":[],"c":{"d":null}}"#,
                    "5",
                    "null",
                    r#"[{"fazz":1,"fizz":2}]"#,
                    r#"{"1":{"0":"x"},"b":[[1],[]]}"#,
                ])),
            )),
            3 => opts.push((
                "value".into(),
                dir(
                    "@literal",
                    raw(r#"{"x":{"y":[1,{"z":null}]},"x.y":"first"}"#),
                ),
            )),
            _ => {
                let a = self.arg(depth);
                opts.push(("value".into(), a));
            }
        }
        match self.below(14) {
            0 => {}
            1 => opts.push(("separator".into(), raw(self.pick(&["\"\"", "1", "null"])))),
            2 => opts.push(("separator".into(), self.path())),
            _ => opts.push((
                "separator".into(),
                s(self.pick(&[".", "_", "__", "/", "é"])),
            )),
        }
        if self.chance(1, 3) {
            opts.push((
                "omitArrays".into(),
                raw(self.pick(&["true", "false", "\"yes\"", "0"])),
            ));
        }
        dir("@flatten", J::Obj(opts))
    }

    fn d_merge(&mut self, depth: usize) -> J {
        let mut opts: Vec<(String, J)> = Vec::new();
        match self.below(10) {
            0 => {}
            1 => opts.push((
                "objects".into(),
                raw(self.pick(&["{}", "null", "\"ab\"", "[]"])),
            )),
            _ => {
                let len = self.below(4);
                let mut objects = Vec::new();
                for _ in 0..len {
                    let o = match self.below(8) {
                        // Values that are not objects reach @merge only through a directive.
                        0 => dir(
                            "@literal",
                            raw(self.pick(&[
                                "null",
                                "1",
                                "true",
                                "\"hi\"",
                                "[1,2]",
                                r#"{"name":"default","0":"zero"}"#,
                            ])),
                        ),
                        1 => obj([("name", path("$.missing")), ("k", self.leaf())]),
                        2 => obj([("name", s("default")), ("b", self.path())]),
                        3 => self.path(),
                        _ => self.mapping(depth),
                    };
                    objects.push(o);
                }
                opts.push(("objects".into(), J::Arr(objects)));
            }
        }
        match self.below(16) {
            0 => {}
            1 => opts.push((
                "direction".into(),
                raw(self.pick(&["\"LEFT\"", "\"up\"", "\"\"", "1", "\"Right\""])),
            )),
            2 => opts.push(("direction".into(), dir("@literal", s("left")))),
            _ => opts.push(("direction".into(), s(self.pick(&["left", "right"])))),
        }
        dir("@merge", J::Obj(opts))
    }

    fn d_transform(&mut self, depth: usize) -> J {
        let mut opts: Vec<(String, J)> = Vec::new();
        match self.below(14) {
            0 => {}
            1 => opts.push((
                "apply".into(),
                raw(self.pick(&["null", "1", "[]", "\"x\""])),
            )),
            2 => opts.push(("apply".into(), self.path())),
            _ => {
                let a = self.mapping(depth);
                let b = self.path();
                opts.push(("apply".into(), obj([("foo", a), ("a", b)])));
            }
        }
        match self.below(14) {
            0 => {}
            1 => opts.push(("mapping".into(), raw(self.pick(&["null", "1", "{}"])))),
            _ => {
                let p = s(self.pick(&["$.foo", "$.a", "$.foo.b", "$.", "$.missing"]));
                let m = self.mapping(depth);
                opts.push(("mapping".into(), obj([("cool", dir("@path", p)), ("m", m)])));
            }
        }
        dir("@transform", J::Obj(opts))
    }

    fn d_exclude(&mut self, depth: usize) -> J {
        match self.below(6) {
            0 => dir(
                "@excludeWhenNull",
                raw(r#"{"a":null,"b":{"c":null,"d":[null,{"e":null}]},"f":"","g":0}"#),
            ),
            1 => dir("@excludeWhenNull", self.leaf()),
            2 => dir(
                "@excludeWhenNull",
                obj([("x", self.path()), ("y", obj([("z", self.path())]))]),
            ),
            _ => dir("@excludeWhenNull", self.arg(depth)),
        }
    }

    fn d_liquid(&mut self) -> J {
        const TEMPLATES: &[&str] = &[
            "{{ name }}",
            "{{ name | upcase }}",
            "{{ name | downcase }}",
            "{{ missing | default: 'none' }}",
            "{{ traits.name | append: '!' }}",
            "{% if t %}yes{% else %}no{% endif %}",
            "{% assign x = 'a' %}{{ x }}",
            "{{ s | size }}",
            "{{ n | plus: 1 }}",
            "{{ arr | join: '-' }}",
            "{{ arr | first }}",
            "{{ s | capitalize }}",
            "{{ s | replace: 'a', 'b' }}",
            "{{ s | truncate: 5 }}",
            "{{ s | strip }}",
            "{% unless f %}u{% endunless %}",
            "plain text",
            "",
            "{{ 1 | times: 2.5 }}",
            "{% for x in arr %}{{ x }}{% endfor %}",
            "{% case s %}{% endcase %}",
            "{{ arr | reverse }}",
            "{{ arr | sort }}",
            "{{ arr | map: 'a' }}",
            "{{ name | type }}",
            "{{",
            "{% if %}",
            "{{ obj }}",
            "{{ nul }}",
            "{{ e | default: 'empty' }}",
            "{{ a.b }}",
            "{{ 'x' | prepend: s }}",
        ];
        match self.below(12) {
            0 => dir("@liquid", self.leaf()),
            1 => dir("@liquid", s(&"x".repeat(1000 + self.below(2)))),
            _ => dir("@liquid", s(self.pick(TEMPLATES))),
        }
    }

    // --- Families ------------------------------------------------------------------------------

    fn family(&mut self, family: &str) -> Triple {
        match family {
            "path" => self.focused(Gen::d_path),
            "template" => self.focused(Gen::d_template),
            "literal" => self.focused(Gen::d_literal),
            "if" => self.focused(Gen::d_if),
            "case" => self.focused(Gen::d_case),
            "replace" => self.focused(Gen::d_replace),
            "arrayPath" => self.focused(Gen::d_array_path),
            "json" => self.focused(Gen::d_json),
            "flatten" => self.focused(Gen::d_flatten),
            "merge" => self.focused(Gen::d_merge),
            "transform" => self.focused(Gen::d_transform),
            "excludeWhenNull" => self.focused(Gen::d_exclude),
            "liquid" => {
                let m = obj([("out", self.d_liquid())]);
                (m, self.payload(), None)
            }
            "nested" => {
                let depth = 2 + self.below(3);
                let m = if self.chance(1, 6) {
                    self.mapping(depth)
                } else {
                    obj([("out", self.mapping(depth)), ("k", self.mapping(depth - 1))])
                };
                (m, self.payload(), None)
            }
            "validate" => (self.invalid(), self.payload(), None),
            "root" => self.root(),
            "keyorder" => self.keyorder(),
            "numbers" => self.numbers(),
            "unicode" => self.unicode(),
            "talon" => self.talon(),
            "deep" => self.deep(),
            _ => self.fields(),
        }
    }

    /// A mapping that exercises one directive: one to three keys, each that directive with
    /// arguments of depth 0 to 2.
    fn focused(&mut self, make: fn(&mut Gen, usize) -> J) -> Triple {
        let len = 1 + self.below(2);
        let mut entries = Vec::new();
        for i in 0..len {
            let depth = self.below(3);
            entries.push((format!("out{i}"), make(self, depth)));
        }
        if self.chance(1, 10) {
            // The directive at the root of the mapping: its result is the whole output.
            return (make(self, 1), self.payload(), None);
        }
        (J::Obj(entries), self.payload(), None)
    }

    /// A malformed mapping: a valid one with one defect put somewhere in it (§5).
    fn invalid(&mut self) -> J {
        const BAD: &[&str] = &[
            r#"{"@path":"$.a","@template":"x"}"#,
            r#"{"@path":"$.a","k":1}"#,
            r#"{"@path":"$.a","_metadata":{},"k":1}"#,
            r#"{"@path":"$.a","_metadata":{"x":1}}"#,
            r#"{"@oops":1}"#,
            r#"{"@Path":"$.a"}"#,
            r#"{"@":1}"#,
            r#"{"@path":true}"#,
            r#"{"@path":{}}"#,
            r#"{"@template":false}"#,
            r#"{"@template":[]}"#,
            r#"{"@if":"x"}"#,
            r#"{"@if":{"exists":{"@oops":1},"then":1}}"#,
            r#"{"@if":{"blank":{"@oops":1}}}"#,
            r#"{"@case":"x"}"#,
            r#"{"@case":{"operator":1,"value":"a"}}"#,
            r#"{"@case":{"operator":"lower","value":1}}"#,
            r#"{"@replace":{"value":"a"}}"#,
            r#"{"@replace":{"pattern":"aaaaaaaaaaa","value":"a"}}"#,
            r#"{"@replace":{"pattern":"","value":"a"}}"#,
            r#"{"@replace":{"pattern":"a","replacement":null,"value":"a"}}"#,
            r#"{"@replace":{"pattern":"a","replacement":"01234567890","value":"a"}}"#,
            r#"{"@replace":{"pattern":"a","global":"yes","ignorecase":1,"value":"a"}}"#,
            r#"{"@replace":{"pattern":{"@path":"$.a"},"value":"a"}}"#,
            r#"{"@replace":{"pattern":"a"}}"#,
            r#"{"@arrayPath":"$.a"}"#,
            r#"{"@arrayPath":[1]}"#,
            r#"{"@arrayPath":["$.a",{"v":{"@oops":1}}]}"#,
            r#"{"@json":{"mode":"oops","value":"x"}}"#,
            r#"{"@json":{"value":"x"}}"#,
            r#"{"@json":{"mode":"encode"}}"#,
            r#"{"@json":"x"}"#,
            r#"{"@flatten":{"separator":1}}"#,
            r#"{"@flatten":{"value":1,"separator":{"@path":"$.s"}}}"#,
            r#"{"@merge":{"objects":{}}}"#,
            r#"{"@merge":{"objects":[1,"x",{"@path":"$.a"}],"direction":"right"}}"#,
            r#"{"@merge":{"objects":[],"direction":"up"}}"#,
            r#"{"@merge":{"objects":[],"direction":{"@path":"$.d"}}}"#,
            r#"{"@merge":{}}"#,
            r#"{"@transform":{"@path":{}}}"#,
            r#"{"@transform":{"apply":1,"mapping":{}}}"#,
            r#"{"@transform":{"mapping":{}}}"#,
            r#"{"@transform":{"apply":{},"mapping":[]}}"#,
            r#"{"@excludeWhenNull":{"@oops":1}}"#,
            r#"{"@liquid":1}"#,
            r#"{"@literal":{"a":{"@oops":1}}}"#,
            r#"{"@literal":{"@oops":1}}"#,
            r#"[{"@oops":1},{"@path":"$.a","k":1}]"#,
            r#"{"obj":{"@template":false,"@path":"x"},"hash":{"@template":{}}}"#,
        ];
        let bad = raw(self.pick(BAD));
        match self.below(6) {
            0 => bad,
            1 => obj([
                ("a", self.mapping(1)),
                ("b", obj([("c", bad)])),
                ("d", raw(self.pick(BAD))),
            ]),
            2 => arr([bad, self.mapping(1)]),
            3 => dir("@if", obj([("exists", self.path()), ("then", bad)])),
            4 => dir(
                "@merge",
                obj([("objects", arr([bad])), ("direction", s("right"))]),
            ),
            _ => obj([("x", self.mapping(1)), ("y", bad)]),
        }
    }

    /// What `transform` does before resolving: the payload's type, the mapping's spread, the root
    /// directive (§2.2).
    fn root(&mut self) -> Triple {
        match self.below(8) {
            0 => (
                self.mapping(1),
                raw(self.pick(&["1", "[]", "null", "\"s\"", "true", "[{}]"])),
                None,
            ),
            1 => (
                raw(self.pick(&[
                    r#"["cool",{"@path":"$.a"}]"#,
                    r#""neat""#,
                    "123",
                    "null",
                    "true",
                    "[]",
                    r#"[{"@oops":1}]"#,
                ])),
                self.payload(),
                None,
            ),
            2 => {
                let apply = obj([("foo", self.path()), ("bar", self.mapping(1))]);
                let m = obj([
                    (
                        "__segment_internal_directive",
                        dir("@transform", obj([("apply", apply)])),
                    ),
                    ("cool", path("$.foo")),
                    ("other", self.mapping(1)),
                ]);
                (m, self.payload(), None)
            }
            3 => {
                let inner = raw(self.pick(&[
                    r#"{"@path":"$.a","@template":"x"}"#,
                    "1",
                    "null",
                    r#"{}"#,
                    r#"{"@flatten":{"value":{"@path":"$.obj"},"separator":"."}}"#,
                ]));
                (
                    obj([("__segment_internal_directive", inner), ("k", self.path())]),
                    self.payload(),
                    None,
                )
            }
            4 => (self.mapping(2), obj([]), None),
            _ => (obj([("out", self.mapping(2))]), self.payload(), None),
        }
    }

    /// Deep nesting: a payload up to 120 levels deep (under the 128 levels of the whole line that
    /// `Value::parse` reads) and a mapping up to 64 levels deep (`MAX_MAPPING_DEPTH`, the crate's
    /// documented limit; one mapping beyond it is in divergences.ndjson), directives inside
    /// directives, a path down the payload.
    fn deep(&mut self) -> Triple {
        let depth = 20 + self.below(100);
        let mut payload = self.leaf();
        for _ in 0..depth {
            payload = obj([("d", payload)]);
        }
        let down = format!("$.{}", vec!["d"; depth.min(60)].join("."));
        // Levels of arrays and objects, a scalar counting one: `{"@path": "…"}` is two.
        let target = 10 + self.below(55);
        let mut mapping = path(&down);
        let mut levels = 2;
        // One level is kept for the `{"out": …}` around it all.
        while levels + 1 < target {
            let room = target - 1 - levels;
            mapping = match self.below(4) {
                0 if room >= 2 => {
                    levels += 2;
                    dir("@if", obj([("exists", path("$.d")), ("then", mapping)]))
                }
                0 | 1 => {
                    levels += 1;
                    dir("@literal", mapping)
                }
                2 => {
                    levels += 1;
                    obj([("x", mapping)])
                }
                _ => {
                    levels += 1;
                    dir("@excludeWhenNull", mapping)
                }
            };
        }
        (obj([("out", mapping)]), payload, None)
    }

    /// Index-like keys next to others, through every directive that builds objects (§1).
    fn keyorder(&mut self) -> Triple {
        let keys = [
            "b",
            "2",
            "a",
            "1",
            "4294967294",
            "4294967295",
            "01",
            "-1",
            "1.0",
            "0",
            " 1",
            "10",
            "9",
        ];
        let mut entries: Vec<(String, J)> = Vec::new();
        for _ in 0..3 + self.below(6) {
            let k = self.pick(&keys);
            if entries.iter().all(|(e, _)| e != k) {
                entries.push((k.to_owned(), int(self.below(100) as i64)));
            }
        }
        let o = J::Obj(entries);
        let payload = obj([("o", o.clone()), ("p", obj([("z", int(1)), ("3", int(2))]))]);
        let m = match self.below(6) {
            0 => o,
            1 => obj([(
                "j",
                dir(
                    "@json",
                    obj([("mode", s("encode")), ("value", path("$.o"))]),
                ),
            )]),
            2 => obj([(
                "f",
                dir(
                    "@flatten",
                    obj([("value", path("$.")), ("separator", s("."))]),
                ),
            )]),
            3 => obj([(
                "m",
                dir(
                    "@merge",
                    obj([
                        (
                            "objects",
                            arr([path("$.p"), path("$.o"), dir("@literal", s("xyz"))]),
                        ),
                        ("direction", s(self.pick(&["left", "right"]))),
                    ]),
                ),
            )]),
            4 => obj([("o", path("$.o")), ("t", dir("@template", s("{{o}}")))]),
            _ => obj([
                ("x", path("$.o")),
                ("5", int(5)),
                ("y", dir("@excludeWhenNull", path("$.o"))),
            ]),
        };
        (m, payload, None)
    }

    /// Numbers as JavaScript writes them: through `@path`, `@json`, `@template` (§1, §3.2).
    fn numbers(&mut self) -> Triple {
        const NUMS: &[&str] = &[
            "1e21",
            "1e20",
            "123456789012345680000",
            "0.1",
            "0.30000000000000004",
            "-0",
            "0",
            "1.0",
            "5e-324",
            "1.7976931348623157e308",
            "1e-7",
            "1e-6",
            "0.000001",
            "12345678901234567890",
            "9007199254740993",
            "-1.5e-10",
            "100",
            "1E2",
            "2.5e+3",
            "4.35",
            "0.1e1",
            "-0.0",
            "123e-20",
        ];
        let v = n(self.pick(NUMS));
        let payload = obj([
            ("v", v.clone()),
            ("w", arr([v.clone(), n(self.pick(NUMS))])),
        ]);
        let m = obj([
            ("p", path("$.v")),
            ("t", dir("@template", s("{{v}}|{{w}}"))),
            (
                "j",
                dir(
                    "@json",
                    obj([("mode", s("encode")), ("value", path("$.w"))]),
                ),
            ),
            ("lit", v),
            (
                "r",
                dir(
                    "@replace",
                    obj([
                        ("pattern", s(".")),
                        ("replacement", s(",")),
                        ("value", path("$.v")),
                    ]),
                ),
            ),
        ]);
        (m, payload, None)
    }

    /// Strings JSON escapes differently: controls, U+2028, astral characters, escapes in input.
    fn unicode(&mut self) -> Triple {
        const RAW: &[&str] = &[
            r"\u00e9t\u00e9",
            r"\ud83d\ude00",
            r"\u2028\u2029",
            r"\u0000\u001f\u007f",
            r"\b\f\n\r\t",
            r"\/slash",
            r"tab\there",
            r"\u0130",
            r"caf\u0065\u0301",
            r#"\"quoted\""#,
            r"back\\slash",
            r"\uFEFFbom",
        ];
        let v = J::RawStr(self.pick(RAW).to_owned());
        let payload = obj([
            ("u", v.clone()),
            ("k", obj([("clé", v.clone()), ("🎉", int(1))])),
        ]);
        let m = obj([
            ("p", path("$.u")),
            ("k", path("$.k")),
            ("t", dir("@template", s("<{{u}}>"))),
            (
                "j",
                dir(
                    "@json",
                    obj([("mode", s("encode")), ("value", path("$.k"))]),
                ),
            ),
            (
                "c",
                dir(
                    "@case",
                    obj([
                        ("operator", s(self.pick(&["upper", "lower"]))),
                        ("value", path("$.u")),
                    ]),
                ),
            ),
            ("raw", v),
        ]);
        (m, payload, None)
    }

    // --- Talon.One (Actions) ---------------------------------------------------------------------

    /// A realistic Talon.One (Actions) subscription: one of its actions' field definitions with the
    /// destination's default mappings (talon-actions-destination.md §2), variations customers
    /// make, and events whose values exercise ajv's coercion and the empty-value removal.
    fn talon(&mut self) -> Triple {
        let name = self.pick(&[
            "updateCustomerProfileV3",
            "trackEventV2",
            "updateCustomerProfilesAudiences",
            "updateCustomerProfileV2",
            "updateCustomerSessionV2",
            "createAudience",
        ]);
        let (fields, mut mapping) = talon_action(name);
        if let J::Obj(entries) = &mut mapping {
            // Customers' own variations of the defaults.
            match self.below(8) {
                0 => entries.push(("__segment_internal_matching_key".into(), s("userId"))),
                1 => entries.push((
                    "runRuleEngine".into(),
                    raw(self.pick(&[
                        "true",
                        "\"true\"",
                        "\"false\"",
                        "1",
                        "0",
                        "null",
                        "\"yes\"",
                        "[true]",
                        "\"\"",
                    ])),
                )),
                2 => entries.push((
                    "skipNonExistingAttributes".into(),
                    raw(self.pick(&["false", "\"false\"", "0", "\"\"", "null"])),
                )),
                3 => {
                    if let Some((_, v)) = entries.iter_mut().find(|(k, _)| k == "customerProfileId")
                    {
                        *v = dir(
                            "@template",
                            s(self.pick(&[
                                "{{userId}}",
                                "user-{{userId}}",
                                "{{traits.email}}",
                                "{{anonymousId}}",
                            ])),
                        );
                    }
                }
                4 => entries.push((
                    "attributes".into(),
                    obj([
                        ("Name", path("$.traits.name")),
                        (
                            "Tier",
                            dir(
                                "@case",
                                obj([("operator", s("upper")), ("value", path("$.traits.tier"))]),
                            ),
                        ),
                        ("Age", path("$.traits.age")),
                    ]),
                )),
                _ => {}
            }
        }
        (mapping, self.talon_event(), Some(fields))
    }

    fn talon_event(&mut self) -> J {
        let user_id = raw(self.pick(&[
            r#""user-1""#,
            r#""user-2""#,
            r#""u-\u00e9""#,
            r#""user-3""#,
            r#""user-1""#,
            r#""user-2""#,
            r#""""#,
            "null",
            "1234",
            "12.5",
            "true",
            r#"["u1"]"#,
            r#"[{"id":1}]"#,
            r#"{"id":1}"#,
            r#""  spaced  ""#,
            r#""a/b?c#d""#,
            "[]",
            r#"["a","b"]"#,
        ]));
        let ids = raw(self.pick(&[
            "[1,2,3]",
            "[4]",
            "[1,2,3]",
            "[7,8]",
            r#"[1,"2"," 3 ","0x10"]"#,
            "5",
            r#""7""#,
            "[1.5]",
            "[null,1]",
            r#"["x"]"#,
            "null",
            r#""""#,
            "[]",
            "[-7356410144751616,525191390167040]",
            r#"[true,false]"#,
            r#"[[1]]"#,
            r#""1e3""#,
            "{}",
        ]));
        let audiences = raw(self.pick(&[
            r#"[{"name":"VIP","integrationId":"vip-1"},{"name":"Churn","integrationId":7}]"#,
            r#"{"name":"Single","extra":"dropped"}"#,
            r#"[{"integrationId":"no-name"}]"#,
            r#"[{"name":null},{"name":""},{"name":"ok","integrationId":""}]"#,
            r#"[]"#,
            r#""VIP""#,
            "null",
            r#"[{"name":["VIP"]}]"#,
            r#"[{"name":{"x":1}}]"#,
        ]));
        let attributes_info = raw(self.pick(&[
            r#"[{"name":"Tier","type":"string"},{"name":"Age","type":"number"}]"#,
            r#"[{"name":"X","type":"list"}]"#,
            r#"[{"name":"X"}]"#,
            r#"{"name":"X","type":"boolean","extra":1}"#,
            "null",
        ]));
        let traits = raw(self.pick(&[
            r#"{"name":"Ada","email":"ada@example.com","tier":"gold","age":36,"address":{"city":"Berlin","zip":null},"tags":["a",""],"empty":"","nothing":null}"#,
            r#"{"name":"","tier":null,"age":"36"}"#,
            r#"{}"#, "null", r#""not an object""#, r#"[1,2]"#,
            r#"{"1":"one","b":2,"0":"zero","audienceIds":[4,"5"]}"#,
            r#"{"name":"Straße","tier":"İ","age":1e21,"attributesInfo":[{"name":"Age","type":"number"}]}"#,
        ]));
        let products = raw(self.pick(&[
            r#"[{"name":"Shoe","sku":"S-1","quantity":2,"price":"19.99","weight":1.5,"width":3,"attributes":{"color":"red"}},{"sku":"S-2","quantity":"1","price":null}]"#,
            r#"{"sku":"ONE","quantity":1,"price":10}"#, "[]", "null", r#"[{"quantity":"two"}]"#, r#"[1,"x",null]"#,
            r#"[{"sku":"Q","quantity":89572104743157.77,"returnedQuantity":0,"position":false}]"#,
        ]));
        let event = raw(self.pick(&[
            r#""Order Completed""#,
            r#""""#,
            "null",
            "42",
            r#"["Viewed"]"#,
            r#""Trait Computed""#,
        ]));
        let mut entries: Vec<(String, J)> = vec![
            ("type".into(), s(self.pick(&["identify", "track"]))),
            ("userId".into(), user_id),
            ("anonymousId".into(), s("anon-1")),
            ("event".into(), event),
            ("traits".into(), traits),
        ];
        let mut props: Vec<(String, J)> = vec![
            ("audiencesToAdd".into(), audiences.clone()),
            ("audiencesToDelete".into(), audiences),
            ("attributesInfo".into(), attributes_info),
            ("add".into(), ids.clone()),
            ("remove".into(), ids),
            ("products".into(), products),
            (
                "sessionId".into(),
                raw(self.pick(&[r#""s-1""#, "17", "null", r#""""#])),
            ),
            (
                "state".into(),
                raw(self.pick(&[
                    r#""open""#,
                    r#""closed""#,
                    r#""OPEN""#,
                    "null",
                    "1",
                    r#"["open"]"#,
                ])),
            ),
            (
                "coupons".into(),
                raw(self.pick(&[r#"["C1","C2"]"#, r#""C1""#, "[1,null]", "null", r#"[""]"#])),
            ),
            (
                "attributes".into(),
                raw(self.pick(&[r#"{"a":1,"b":null,"c":""}"#, "null", r#""x""#, "{}"])),
            ),
            (
                "audienceId".into(),
                raw(self.pick(&[r#""aud-1""#, "12", "null", r#""""#])),
            ),
            (
                "audienceName".into(),
                raw(self.pick(&[r#""Travel audience""#, "true", "null"])),
            ),
        ];
        if self.chance(1, 5) {
            let key = self.below(props.len());
            props.remove(key);
        }
        if self.chance(1, 6) {
            entries.retain(|(k, _)| k != "userId");
        }
        entries.push(("properties".into(), J::Obj(std::mem::take(&mut props))));
        J::Obj(entries)
    }

    // --- Random field definitions ------------------------------------------------------------------

    /// Random field definitions (every type, `multiple`, `allowNull`, `required`, choices,
    /// minimum/maximum, format, objects with and without properties) and a mapping feeding each
    /// field a value that ajv must coerce, reject or remove (§6).
    fn fields(&mut self) -> Triple {
        let count = 1 + self.below(4);
        let mut defs: Vec<(String, J)> = Vec::new();
        let mut mapping: Vec<(String, J)> = Vec::new();
        for i in 0..count {
            let key = format!("f{i}");
            let def = self.field_def(i, true);
            defs.push((key.clone(), def));
            match self.below(10) {
                0 => {}
                1 => mapping.push((key, s(""))),
                2 => mapping.push((key, J::Null)),
                3 | 4 => mapping.push((key, self.path())),
                _ => mapping.push((key, self.coercible())),
            }
        }
        if self.chance(1, 3) {
            mapping.push(("extra".into(), self.leaf()));
        }
        if self.chance(1, 10) {
            mapping.push(("dynamicAuthSettings".into(), obj([("k", int(1))])));
        }
        if self.chance(1, 12) {
            defs.clear();
        }
        if self.chance(1, 8) && defs.len() >= 2 {
            // A conditionally required field (`required: {conditions}`).
            let cond = raw(self.pick(&[
                r#"{"conditions":[{"fieldKey":"f0","operator":"is","value":"a"}]}"#,
                r#"{"conditions":[{"fieldKey":"f0","operator":"is_not"}]}"#,
                r#"{"match":"any","conditions":[{"fieldKey":"f0","operator":"is","value":"a"},{"fieldKey":"f0","operator":"is","value":1}]}"#,
            ]));
            if let J::Obj(entries) = &mut defs[1].1 {
                entries.retain(|(k, _)| k != "required");
                entries.push(("required".into(), cond));
            }
        }
        (J::Obj(mapping), self.payload(), Some(J::Obj(defs)))
    }

    fn field_def(&mut self, index: usize, top: bool) -> J {
        let ty = self.pick(&[
            "string", "text", "password", "number", "integer", "boolean", "datetime", "object",
            "string", "object",
        ]);
        let mut entries: Vec<(String, J)> = Vec::new();
        if !self.chance(1, 10) {
            entries.push(("label".into(), s(&format!("F{index} Label"))));
        }
        entries.push(("type".into(), s(ty)));
        entries.push(("description".into(), s("A field.")));
        if self.chance(1, 4) {
            entries.push(("required".into(), J::Bool(true)));
        }
        if self.chance(1, 4) {
            entries.push(("multiple".into(), J::Bool(true)));
        }
        if self.chance(1, 4) {
            entries.push(("allowNull".into(), J::Bool(true)));
        }
        if matches!(ty, "string" | "number" | "integer") && self.chance(1, 4) {
            let choices = match ty {
                "string" => raw(self.pick(&[
                    r#"["a","b"]"#,
                    r#"[{"label":"A","value":"a"},{"label":"B","value":"b"}]"#,
                ])),
                _ => raw(r#"[{"label":"One","value":1},{"label":"Two","value":2}]"#),
            };
            entries.push(("choices".into(), choices));
        }
        if matches!(ty, "string" | "number" | "integer") && self.chance(1, 5) {
            entries.push(("minimum".into(), int(self.pick(&[0, 2]))));
            if self.chance(1, 2) {
                entries.push(("maximum".into(), int(5)));
            }
        }
        if ty == "string" && self.chance(1, 6) {
            entries.push((
                "format".into(),
                s(self.pick(&[
                    "email",
                    "uri",
                    "date-time",
                    "date",
                    "hostname",
                    "ipv4",
                    "uuid",
                    "regex",
                ])),
            ));
        }
        if self.chance(1, 6) {
            entries.push((
                "default".into(),
                raw(self.pick(&[r#"{"@path":"$.a"}"#, r#""dflt""#, "7"])),
            ));
        }
        if ty == "object" && top && self.chance(1, 2) {
            let mut props: Vec<(String, J)> = Vec::new();
            for j in 0..1 + self.below(3) {
                props.push((format!("p{j}"), self.field_def(10 * (index + 1) + j, false)));
            }
            entries.push(("properties".into(), J::Obj(props)));
            if self.chance(1, 5) {
                entries.push(("additionalProperties".into(), J::Bool(true)));
            }
        }
        J::Obj(entries)
    }

    /// A value for a field that ajv may coerce.
    fn coercible(&mut self) -> J {
        match self.below(12) {
            0 => self.value(2),
            1 => raw(self.pick(&[
                r#"{"p0":"x","p1":1,"zz":"extra"}"#,
                r#"{"p0":null,"p1":"","p2":[1]}"#,
                r#"[{"p0":"a"},{"p1":"2"}]"#,
                r#"{"p0":{"deep":1}}"#,
            ])),
            _ => raw(self.pick(&[
                "1234",
                "1.5",
                "true",
                "false",
                "null",
                r#""""#,
                r#""12""#,
                r#""0x10""#,
                r#"" 7 ""#,
                r#""1e3""#,
                r#""true""#,
                r#""false""#,
                r#""yes""#,
                r#""a""#,
                r#""b""#,
                r#""c""#,
                r#"["one"]"#,
                r#"[{"a":1}]"#,
                "[1,2]",
                r#"["1","x"]"#,
                "[]",
                "[null]",
                r#""2026-01-01T00:00:00Z""#,
                r#""1767225600""#,
                r#""Thu, 01 Jan 2026 00:00:00 GMT""#,
                r#""not a date""#,
                r#""a@b.co""#,
                r#""http://x.y/z""#,
                r#""abcdefg""#,
                "0",
                "-0",
                "7",
                "1e21",
                r#""  ""#,
                "{}",
                r#"{"k":1}"#,
            ])),
        }
    }
}

/// A JSON text as a value, key order and number spelling kept (the generator's literal tables are
/// written as JSON; a typo in one is a bug of the generator, so it panics).
fn raw(text: &str) -> J {
    let mut reader = Raw::new(text);
    let value = reader.value();
    reader.ws();
    match value {
        Some(value) if reader.at == reader.bytes.len() => value,
        _ => panic!("generator literal is not JSON: {text}"),
    }
}

/// A minimal order-keeping reader of the generator's own (trusted, valid) literal JSON texts.
struct Raw<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Raw<'a> {
    fn new(text: &'a str) -> Self {
        Raw {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn ws(&mut self) {
        while self.at < self.bytes.len() && self.bytes[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn value(&mut self) -> Option<J> {
        self.ws();
        let c = *self.bytes.get(self.at)?;
        let v = match c {
            b'{' => {
                self.at += 1;
                let mut entries = Vec::new();
                self.ws();
                if self.bytes.get(self.at) == Some(&b'}') {
                    self.at += 1;
                    return Some(J::Obj(entries));
                }
                loop {
                    self.ws();
                    let J::Str(key) = self.value()? else {
                        return None;
                    };
                    self.ws();
                    if self.bytes.get(self.at) != Some(&b':') {
                        return None;
                    }
                    self.at += 1;
                    let v = self.value()?;
                    entries.push((key, v));
                    self.ws();
                    match self.bytes.get(self.at)? {
                        b',' => self.at += 1,
                        b'}' => {
                            self.at += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                J::Obj(entries)
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                self.ws();
                if self.bytes.get(self.at) == Some(&b']') {
                    self.at += 1;
                    return Some(J::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    match self.bytes.get(self.at)? {
                        b',' => self.at += 1,
                        b']' => {
                            self.at += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                J::Arr(items)
            }
            b'"' => {
                let start = self.at;
                self.at += 1;
                while *self.bytes.get(self.at)? != b'"' {
                    if self.bytes[self.at] == b'\\' {
                        self.at += 1;
                    }
                    self.at += 1;
                }
                self.at += 1;
                let text = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
                J::Str(serde_json::from_str(text).ok()?)
            }
            b't' | b'f' | b'n' => {
                let word: &[u8] = match c {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                if !self.bytes[self.at..].starts_with(word) {
                    return None;
                }
                self.at += word.len();
                match c {
                    b't' => J::Bool(true),
                    b'f' => J::Bool(false),
                    _ => J::Null,
                }
            }
            _ => {
                let start = self.at;
                while self.at < self.bytes.len()
                    && matches!(
                        self.bytes[self.at],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.at += 1;
                }
                if start == self.at {
                    return None;
                }
                J::Num(
                    std::str::from_utf8(&self.bytes[start..self.at])
                        .ok()?
                        .to_owned(),
                )
            }
        };
        Some(v)
    }
}

// --- The Talon.One (Actions) destination's actions -------------------------------------------------

/// `fixtures/segment-mapping/talon-actions.json`: each action's field definitions and mapping.
const TALON_ACTIONS: &str = include_str!("../../../../fixtures/segment-mapping/talon-actions.json");

/// The fields and mapping of one action of the fixture.
pub(crate) fn talon_action(name: &str) -> (J, J) {
    let J::Obj(actions) = raw(TALON_ACTIONS) else {
        panic!("talon-actions.json is an object")
    };
    let (_, action) = actions
        .into_iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no action {name}"));
    let J::Obj(parts) = action else {
        panic!("{name} is an object")
    };
    let get = |key: &str| {
        parts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{name} has no {key}"))
    };
    (get("fields"), get("mapping"))
}
