//! The one integration-test binary of talon-fake: each module covers one area of `CONTRACT.md`.

mod audiences;
mod auth;
mod contract;
mod control;
mod faults;
mod fuzz;
mod hygiene;
mod limits;
mod management;
mod pipeline;
mod profiles;
mod relay;
mod relay_audiences;
mod relay_deprecated;
mod relay_events;
mod relay_limit;
mod relay_schema;
mod relay_sessions;
mod relay_socket;
mod schema;
mod socket;
mod state;
mod support;
mod view;
