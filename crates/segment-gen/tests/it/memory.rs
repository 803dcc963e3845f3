//! Streaming: the generator's state does not grow with the number of events.

use segment_gen::{Generator, Scenario};

#[test]
fn the_generators_state_does_not_grow_with_events() {
    let scenario = Scenario {
        users: 100,
        days: 100_000,
        ..Scenario::edge()
    };
    let mut generator = Generator::new(scenario, 41).unwrap();
    let at_start = generator.state_bytes();
    let mut buf = Vec::new();
    let mut sizes = Vec::new();
    for round in 0..6 {
        for _ in 0..(10_000 << round) {
            buf.clear();
            generator
                .next_into(&mut buf)
                .expect("the run is long enough");
        }
        sizes.push(generator.state_bytes());
    }
    assert!(generator.emitted() > 600_000);
    assert!(
        sizes.iter().all(|&s| s == at_start),
        "{at_start} then {sizes:?}"
    );
}

#[test]
fn the_state_is_proportional_to_users_not_days() {
    let bytes = |users, days| {
        Generator::new(
            Scenario {
                users,
                days,
                ..Scenario::default()
            },
            1,
        )
        .unwrap()
        .state_bytes()
    };
    assert_eq!(bytes(1000, 10), bytes(1000, 10_000));
    let (small, large) = (bytes(1000, 10), bytes(10_000, 10));
    assert!(
        large > 9 * small && large < 11 * small,
        "{small} vs {large}"
    );
}

#[test]
fn with_commerce_only_the_orders_grow_the_state() {
    let scenario = Scenario {
        users: 50,
        days: 100_000,
        ..Scenario::actions()
    };
    let mut generator = Generator::new(scenario, 42).unwrap();
    let mut buf = Vec::new();
    let mut last = generator.state_bytes();
    let mut grew = 0;
    for _ in 0..4 {
        for _ in 0..50_000 {
            buf.clear();
            generator
                .next_into(&mut buf)
                .expect("the run is long enough");
        }
        let now = generator.state_bytes();
        assert!(now >= last);
        grew += usize::from(now > last);
        last = now;
    }
    let orders = generator.ledger().orders.len();
    assert!(grew > 0 && orders > 1000, "{grew} {orders}");
    // Bounded by a few dozen bytes per order and product, doubling included.
    let at_start = Generator::new(
        Scenario {
            users: 50,
            days: 100_000,
            ..Scenario::actions()
        },
        42,
    )
    .unwrap()
    .state_bytes();
    assert!(
        last - at_start < orders * 2 * (32 + 5 * 8),
        "{at_start} {last} {orders}"
    );
}
