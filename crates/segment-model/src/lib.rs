//! Segment Spec event types.
