//! Seeded Segment traffic generator.
