//! Commerce tracks as Segment's E-commerce spec (v2) names them: the catalog, the ids, an order's amounts, and the writer of their `properties`.
//!
//! A shopping session is one user's funnel for one day, drawn by
//! [`crate::simulation`]: `Product Viewed` one to six times, `Product
//! Added` for some of the viewed products (at most five, each product
//! once), then perhaps `Checkout Started` and `Order Completed` with the
//! cart as `products` (one to five). Every choice about commerce comes from
//! its own ChaCha8 stream, so turning commerce on changes no identify's
//! traits and no audience membership (only times and message ids move).
//!
//! # Amounts (chosen here, in integer cents, then written with two decimals at most)
//!
//! - `price`: the product's, a catalog constant whose last cent digit is never 0.
//! - items = Σ `price` × `quantity` over the order's products.
//! - `discount`: 10% of items (rounded down to the cent) when the order has a
//!   `coupon`, else 0.
//! - `revenue` = `subtotal` = items − `discount` (Segment's spec: revenue
//!   excludes shipping and tax; subtotal is after discounts, before taxes
//!   and shipping).
//! - `tax` = 8% of `subtotal`, rounded down; `shipping` = 0 from 50.00 up, else 4.99.
//! - `total` = `subtotal` + `tax` + `shipping`.
//!
//! `Order Completed` carries `order_id`, `checkout_id`, `affiliation`,
//! `total`, `subtotal`, `revenue`, `shipping`, `tax`, `discount`, `coupon`
//! (when there is one), `currency` and `products`; `Checkout Started` the
//! same with `value` (= `revenue`) in place of `total` and `subtotal`, as
//! Segment's spec lists them. `Product Viewed` carries the product's fields
//! (`product_id`, `sku`, `category`, `name`, `brand`, `variant`, `price`,
//! `quantity`, `position`, `url`, `image_url`) with `currency` and `value`;
//! `Product Added` the same with `cart_id` and `coupon` first, without `value`.
//!
//! Amounts are written as JavaScript's `JSON.stringify` writes the number
//! (`9.9`, `10`, `19.99`), so a line reads back as the same `f64`.
//!
//! # Edge shapes (edge profile only)
//!
//! Shares of commerce events or products; each exercises a coercion in
//! Segment's destination code or a refusal at Talon.One
//! (`talon-actions-destination.md` §9):
//!
//! | shape | share |
//! | --- | --- |
//! | event name with a trailing space (`"Order Completed "`) | 2% of commerce tracks |
//! | event name in lower case (`"order completed"`) | 2% of commerce tracks |
//! | no `event` at all | 2% of commerce tracks |
//! | a `null` entry in `products` | 10% of checkouts and orders |
//! | no `order_id` | 5% of checkouts and orders |
//! | `sku` as a JSON number (`10007`) | 10% of products |
//! | `quantity` as a string (`"2"`) | 10% of products |
//! | `quantity` as a float (`1.5`: the intended quantity plus a half) | 5% of products |
//! | `category` as an array of strings | 5% of products |
//!
//! In edge orders the revenue rule uses the intended integer quantities, so
//! a float quantity breaks it on purpose; `null` entries count for nothing.

use crate::json::{mix, push_hex, push_padded, push_u64};
use crate::values::CATEGORIES;

/// Products in the catalog.
pub(crate) const PRODUCTS: u32 = 120;
/// Most products in a cart (and so in an order).
pub(crate) const MAX_CART: usize = 5;
/// Most `Product Viewed` in a session.
pub(crate) const MAX_VIEWS: u32 = 6;
/// Most events a session queues: views, adds, checkout, order.
pub(crate) const MAX_SESSION_EVENTS: usize = MAX_VIEWS as usize + MAX_CART + 2;
/// Most items a session puts in the simulation's buffer: one per view and
/// add, the cart (plus a `null`) twice.
pub(crate) const MAX_SESSION_ITEMS: usize = MAX_VIEWS as usize + MAX_CART + 2 * (MAX_CART + 1);
/// Events a shopping session sends on average (for spreading a day's
/// activity): 3.5 views, 1.4 adds, about one checkout or order.
pub(crate) const MEAN_SESSION_EVENTS: f64 = 6.0;

/// Chance that a viewed product is added to the cart.
pub(crate) const ADD_SHARE: f64 = 0.4;
/// Chance that a non-empty cart reaches `Checkout Started`.
pub(crate) const CHECKOUT_SHARE: f64 = 0.6;
/// Chance that a started checkout ends in `Order Completed`.
pub(crate) const ORDER_SHARE: f64 = 0.75;
/// Chance that a session's cart carries a coupon.
pub(crate) const COUPON_SHARE: f64 = 0.2;
/// Chance that an added product's quantity is above 1 (then 2 or 3).
pub(crate) const MULTIPLE_SHARE: f64 = 0.25;

/// Edge shares: see the module docs' table.
pub(crate) const EDGE_NAME_SHARE: f64 = 0.06;
pub(crate) const EDGE_NULL_PRODUCT_SHARE: f64 = 0.10;
pub(crate) const EDGE_NO_ORDER_ID_SHARE: f64 = 0.05;
pub(crate) const EDGE_SKU_NUMBER_SHARE: f64 = 0.10;
pub(crate) const EDGE_QTY_STRING_SHARE: f64 = 0.10;
pub(crate) const EDGE_QTY_FLOAT_SHARE: f64 = 0.05;
pub(crate) const EDGE_CATEGORY_LIST_SHARE: f64 = 0.05;

/// Coupon codes, each worth 10% (`coupon` is the index plus one; 0 is none).
pub(crate) const COUPONS: &[&str] = &["WELCOME10", "SPRING10", "VIP10", "LOYAL10"];

/// The product number of a `null` entry in `products`.
pub(crate) const NULL_PRODUCT: u16 = u16::MAX;

/// Item code: the quantity in bits 0..4, the list position in bits 4..12,
/// the edge flags above.
pub(crate) const SKU_NUMBER: u32 = 1 << 16;
pub(crate) const QTY_STRING: u32 = 1 << 17;
pub(crate) const QTY_FLOAT: u32 = 1 << 18;
pub(crate) const CATEGORY_LIST: u32 = 1 << 19;

/// An item code from its parts.
pub(crate) fn item(quantity: u32, position: u32, flags: u32) -> u32 {
    (quantity & 0xf) | (position & 0xff) << 4 | flags
}

/// The intended quantity of an item code.
pub(crate) fn quantity(code: u32) -> u32 {
    code & 0xf
}

/// What a commerce track is, in the funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Viewed,
    Added,
    CheckoutStarted,
    OrderCompleted,
}

impl Step {
    /// The event name as Segment's spec spells it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Viewed => "Product Viewed",
            Self::Added => "Product Added",
            Self::CheckoutStarted => "Checkout Started",
            Self::OrderCompleted => "Order Completed",
        }
    }
}

/// How the `event` field is written (edge profile: not always as the spec says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Name {
    Exact,
    TrailingSpace,
    LowerCase,
    Missing,
}

impl Name {
    pub(crate) const ALL: [Self; 4] = [
        Self::Exact,
        Self::TrailingSpace,
        Self::LowerCase,
        Self::Missing,
    ];

    /// `name` as this shape writes it; `None` when the event has no `event`.
    pub(crate) fn apply(self, name: &str) -> Option<String> {
        match self {
            Self::Exact => Some(name.to_owned()),
            Self::TrailingSpace => Some(format!("{name} ")),
            Self::LowerCase => Some(name.to_lowercase()),
            Self::Missing => None,
        }
    }
}

/// A commerce track waiting to be written: its items are in the
/// simulation's buffer, as (product, item code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Track {
    pub(crate) step: Step,
    /// The run's shopping-session number: cart, checkout and order ids derive from it.
    pub(crate) session: u32,
    /// 0, or a coupon's index plus one.
    pub(crate) coupon: u8,
    pub(crate) name: Name,
    /// `false`: the edge shape without `order_id`.
    pub(crate) order_id: bool,
}

const ADJECTIVES: &[&str] = &["Classic", "Premium", "Eco", "Compact", "Deluxe", "Everyday"];
/// One noun per entry of [`CATEGORIES`], with its base price in dollars and spread.
const NOUNS: &[(&str, u32, u32)] = &[
    ("Running Shoes", 39, 120),
    ("Paperback Novel", 6, 20),
    ("Wireless Headphones", 29, 250),
    ("Watering Can", 9, 30),
    ("Puzzle Box", 7, 40),
    ("Coffee Beans", 4, 18),
    ("Yoga Mat", 15, 60),
    ("Face Cream", 8, 45),
    ("Vinyl Record", 14, 30),
    ("Travel Backpack", 35, 150),
];
const BRANDS: &[&str] = &[
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Soylent", "Vandelay",
];
const VARIANTS: &[&str] = &["Black", "White", "Red", "Blue", "Green"];
const CENT_ENDINGS: &[u32] = &[99, 95, 49, 45, 19];
const CURRENCIES: &[&str] = &["USD", "EUR", "GBP"];
const AFFILIATIONS: &[&str] = &["Online Store", "Mobile App"];

/// A catalog product, computed from its number.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Product {
    pub(crate) number: u32,
    pub(crate) category: usize,
    pub(crate) cents: u32,
    hash: u64,
}

impl Product {
    pub(crate) fn new(number: u32) -> Self {
        let hash = mix(u64::from(number) ^ 0x7072_6f64_7563_7400);
        let category = number as usize % CATEGORIES.len();
        let (_, base, spread) = NOUNS[category];
        let dollars = base + (hash % u64::from(spread)) as u32;
        let ending = CENT_ENDINGS[(hash >> 20) as usize % CENT_ENDINGS.len()];
        Self {
            number,
            category,
            cents: dollars * 100 + ending,
            hash,
        }
    }

    fn sku_number(self) -> u32 {
        10_000 + self.number * 7
    }
}

/// The order's amounts, in cents, by the rules in the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Amounts {
    pub(crate) items: u64,
    pub(crate) discount: u64,
    pub(crate) subtotal: u64,
    pub(crate) tax: u64,
    pub(crate) shipping: u64,
    pub(crate) total: u64,
}

impl Amounts {
    pub(crate) fn of(items: &[(u16, u32)], coupon: u8) -> Self {
        let sum: u64 = items
            .iter()
            .filter(|(p, _)| *p != NULL_PRODUCT)
            .map(|&(p, code)| {
                u64::from(Product::new(u32::from(p)).cents) * u64::from(quantity(code))
            })
            .sum();
        let discount = if coupon > 0 { sum / 10 } else { 0 };
        let subtotal = sum - discount;
        let tax = subtotal * 8 / 100;
        let shipping = if subtotal >= 5000 { 0 } else { 499 };
        Self {
            items: sum,
            discount,
            subtotal,
            tax,
            shipping,
            total: subtotal + tax + shipping,
        }
    }
}

/// Appends `cents` as a JSON number the way JavaScript writes it: no
/// trailing zeros, no point for whole amounts.
pub(crate) fn push_cents(out: &mut Vec<u8>, cents: u64) {
    push_u64(out, cents / 100);
    let rest = cents % 100;
    if rest != 0 {
        out.push(b'.');
        if rest.is_multiple_of(10) {
            push_u64(out, rest / 10);
        } else {
            push_padded(out, rest, 2);
        }
    }
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    // Every table string here is ASCII without quotes or backslashes.
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

fn push_sku(out: &mut Vec<u8>, product: Product) {
    out.extend_from_slice(b"SKU-");
    push_u64(out, u64::from(product.sku_number()));
}

/// Appends a session-derived id: a 12-digit hash of `(seed, session, salt)`
/// and the session number, so ids are unique within a run.
fn push_session_id(out: &mut Vec<u8>, prefix: &[u8], seed: u64, session: u32, salt: u64) {
    out.push(b'"');
    out.extend_from_slice(prefix);
    push_hex(out, mix(seed ^ mix(u64::from(session) ^ salt)), 12);
    push_hex(out, u64::from(session), 12);
    out.push(b'"');
}

/// Writes one product's members (without braces).
fn write_product(out: &mut Vec<u8>, p: u16, code: u32) {
    let product = Product::new(u32::from(p));
    out.extend_from_slice(b"\"product_id\":\"");
    push_hex(out, product.hash, 12);
    out.extend_from_slice(b"\",\"sku\":");
    if code & SKU_NUMBER != 0 {
        push_u64(out, u64::from(product.sku_number()));
    } else {
        out.push(b'"');
        push_sku(out, product);
        out.push(b'"');
    }
    out.extend_from_slice(b",\"category\":");
    let category = CATEGORIES[product.category];
    if code & CATEGORY_LIST != 0 {
        out.push(b'[');
        push_str(out, category);
        out.push(b',');
        push_str(out, CATEGORIES[(product.category + 3) % CATEGORIES.len()]);
        out.push(b']');
    } else {
        push_str(out, category);
    }
    let (noun, _, _) = NOUNS[product.category];
    out.extend_from_slice(b",\"name\":\"");
    out.extend_from_slice(ADJECTIVES[(product.hash >> 8) as usize % ADJECTIVES.len()].as_bytes());
    out.push(b' ');
    out.extend_from_slice(noun.as_bytes());
    out.extend_from_slice(b"\",\"brand\":");
    push_str(out, BRANDS[(product.hash >> 16) as usize % BRANDS.len()]);
    out.extend_from_slice(b",\"variant\":");
    push_str(
        out,
        VARIANTS[(product.hash >> 24) as usize % VARIANTS.len()],
    );
    out.extend_from_slice(b",\"price\":");
    push_cents(out, u64::from(product.cents));
    out.extend_from_slice(b",\"quantity\":");
    let q = u64::from(quantity(code));
    if code & QTY_STRING != 0 {
        out.push(b'"');
        push_u64(out, q);
        out.push(b'"');
    } else if code & QTY_FLOAT != 0 {
        push_u64(out, q);
        out.extend_from_slice(b".5");
    } else {
        push_u64(out, q);
    }
    out.extend_from_slice(b",\"position\":");
    push_u64(out, u64::from((code >> 4) & 0xff));
    out.extend_from_slice(b",\"url\":\"https://shop.example/products/");
    push_sku(out, product);
    out.extend_from_slice(b"\",\"image_url\":\"https://cdn.shop.example/images/");
    push_sku(out, product);
    out.extend_from_slice(b".jpg\"");
}

/// Writes a `products` array.
pub(crate) fn write_products(out: &mut Vec<u8>, items: &[(u16, u32)]) {
    out.push(b'[');
    for (i, &(p, code)) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if p == NULL_PRODUCT {
            out.extend_from_slice(b"null");
        } else {
            out.push(b'{');
            write_product(out, p, code);
            out.push(b'}');
        }
    }
    out.push(b']');
}

/// The currency a user pays in.
pub(crate) fn currency(user: u32) -> &'static str {
    CURRENCIES[user as usize % CURRENCIES.len()]
}

/// The coupon code of a track's `coupon` field, if any.
pub(crate) fn coupon(coupon: u8) -> Option<&'static str> {
    COUPONS.get(usize::from(coupon).checked_sub(1)?).copied()
}

/// Writes the order id of session `session` (with quotes).
pub(crate) fn push_order_id(out: &mut Vec<u8>, seed: u64, session: u32) {
    push_session_id(out, b"", seed, session, 0x6f72_6465_7200);
}

/// Writes `,"event":…,"properties":{…}` of a commerce track for `user`.
pub(crate) fn write_track(
    out: &mut Vec<u8>,
    seed: u64,
    user: u32,
    track: Track,
    items: &[(u16, u32)],
) {
    if let Some(name) = track.name.apply(track.step.name()) {
        out.extend_from_slice(b",\"event\":");
        // Names are ASCII letters and spaces.
        push_str(out, &name);
    }
    out.extend_from_slice(b",\"properties\":{");
    let coupon = coupon(track.coupon);
    match track.step {
        Step::Viewed | Step::Added => {
            let (p, code) = items.first().copied().unwrap_or((0, item(1, 1, 0)));
            if track.step == Step::Added {
                out.extend_from_slice(b"\"cart_id\":");
                push_session_id(out, b"cart_", seed, track.session, 0x6361_7274);
                if let Some(c) = coupon {
                    out.extend_from_slice(b",\"coupon\":");
                    push_str(out, c);
                }
                out.push(b',');
            }
            write_product(out, p, code);
            out.extend_from_slice(b",\"currency\":");
            push_str(out, currency(user));
            if track.step == Step::Viewed {
                out.extend_from_slice(b",\"value\":");
                push_cents(
                    out,
                    u64::from(Product::new(u32::from(p)).cents) * u64::from(quantity(code)),
                );
            }
        }
        Step::CheckoutStarted | Step::OrderCompleted => {
            let amounts = Amounts::of(items, track.coupon);
            if track.order_id {
                out.extend_from_slice(b"\"order_id\":");
                push_order_id(out, seed, track.session);
                out.push(b',');
            }
            out.extend_from_slice(b"\"checkout_id\":");
            push_session_id(out, b"chk_", seed, track.session, 0x0063_6865_636b);
            out.extend_from_slice(b",\"affiliation\":");
            push_str(out, AFFILIATIONS[user as usize % AFFILIATIONS.len()]);
            if track.step == Step::OrderCompleted {
                out.extend_from_slice(b",\"total\":");
                push_cents(out, amounts.total);
                out.extend_from_slice(b",\"subtotal\":");
                push_cents(out, amounts.subtotal);
            } else {
                out.extend_from_slice(b",\"value\":");
                push_cents(out, amounts.subtotal);
            }
            for (key, cents) in [
                (&b",\"revenue\":"[..], amounts.subtotal),
                (b",\"shipping\":", amounts.shipping),
                (b",\"tax\":", amounts.tax),
                (b",\"discount\":", amounts.discount),
            ] {
                out.extend_from_slice(key);
                push_cents(out, cents);
            }
            if let Some(c) = coupon {
                out.extend_from_slice(b",\"coupon\":");
                push_str(out, c);
            }
            out.extend_from_slice(b",\"currency\":");
            push_str(out, currency(user));
            out.extend_from_slice(b",\"products\":");
            write_products(out, items);
        }
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cents(c: u64) -> String {
        let mut out = Vec::new();
        push_cents(&mut out, c);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn amounts_are_written_as_javascript_writes_numbers() {
        assert_eq!(cents(1999), "19.99");
        assert_eq!(cents(990), "9.9");
        assert_eq!(cents(1000), "10");
        assert_eq!(cents(5), "0.05");
        assert_eq!(cents(0), "0");
        for c in [1, 5, 10, 99, 100, 101, 990, 1999, 123_456] {
            let back: f64 = cents(c).parse().unwrap();
            assert_eq!((back * 100.0).round() as u64, c);
            assert_eq!(back.to_string(), cents(c));
        }
    }

    #[test]
    fn catalog_prices_have_two_decimals_that_read_back_exactly() {
        for p in 0..PRODUCTS {
            let product = Product::new(p);
            assert_ne!(product.cents % 10, 0, "{p}");
            let mut out = Vec::new();
            push_cents(&mut out, u64::from(product.cents));
            let text = String::from_utf8(out).unwrap();
            assert_eq!(text.split('.').nth(1).map(str::len), Some(2), "{text}");
        }
    }

    #[test]
    fn the_amounts_follow_the_documented_rules() {
        let items = [(0u16, item(2, 1, 0)), (NULL_PRODUCT, 0), (5, item(1, 2, 0))];
        let price = |p: u32| u64::from(Product::new(p).cents);
        let sum = 2 * price(0) + price(5);
        let plain = Amounts::of(&items, 0);
        assert_eq!((plain.items, plain.discount, plain.subtotal), (sum, 0, sum));
        let with = Amounts::of(&items, 1);
        assert_eq!(with.discount, sum / 10);
        assert_eq!(with.subtotal, sum - sum / 10);
        assert_eq!(with.tax, with.subtotal * 8 / 100);
        assert_eq!(
            with.total,
            with.subtotal + with.tax + if with.subtotal >= 5000 { 0 } else { 499 }
        );
    }

    #[test]
    fn table_strings_need_no_json_escaping() {
        let strings = ADJECTIVES
            .iter()
            .chain(BRANDS)
            .chain(VARIANTS)
            .chain(CURRENCIES)
            .chain(AFFILIATIONS)
            .chain(COUPONS)
            .chain(NOUNS.iter().map(|n| &n.0));
        for s in strings {
            assert_eq!(
                &*crate::json::quoted(s),
                format!("\"{s}\"").as_bytes(),
                "{s}"
            );
        }
        assert_eq!(NOUNS.len(), CATEGORIES.len());
    }
}
