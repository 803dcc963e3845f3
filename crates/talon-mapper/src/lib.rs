//! The classic Segment -> Talon.One destination rules.
