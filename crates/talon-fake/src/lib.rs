//! Fake Talon.One server.
