//! A Campaign Manager view of what the fake holds, served under [`VIEW_PREFIX`]: the
//! applications, each one's Customers tab (exact, case-sensitive search by integration ID, with
//! a hint for near misses), a customer's Attributes, audiences and request history, the
//! attribute catalog, the audiences, and the journal with filters.
//!
//! Server-rendered HTML that works without JavaScript; [`html`] holds the shared page shell,
//! which `talon-harness repro --html` reuses for its bug-bundle report.

mod html;

pub use html::{AttributeRow, STYLESHEET, attributes_table, page, value_text};

/// Where the view is served: under the control prefix, so it is never journalled or faulted
/// and sits behind the admin token when one is set.
pub const VIEW_PREFIX: &str = "/__admin/view";
