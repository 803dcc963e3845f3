//! The fake's fuzz oracle (`talon_fake::fuzz::check_request`) in stable tests: every committed regression input, then thousands of seeded requests.
//!
//! Regression inputs live in `fixtures/fuzz-regressions/fake_request/`, one
//! raw input of the `fake_request` fuzz target per file
//! (`FuzzRequest::from_bytes` reads it).

use std::path::Path;

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use talon_fake::fuzz::{ENDPOINTS, FuzzRequest, check_request};
use talon_fake::{Fake, router};
use tower::ServiceExt;

use crate::support::fake;

/// Seeded requests.
const CASES: usize = 3000;

async fn check(fake: &Fake, data: &[u8]) -> Result<(), talon_fake::fuzz::Violation> {
    fake.reset(None).expect("the initial state reloads");
    let request = FuzzRequest::from_bytes(data);
    check_request(fake, &request, async |http| {
        router(fake.clone())
            .oneshot(http)
            .await
            .unwrap_or_else(|never| match never {})
    })
    .await
}

#[tokio::test]
async fn every_fake_request_regression_input_gets_a_2xx_or_a_talon_shaped_4xx() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/fuzz-regressions/fake_request");
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .map(|e| e.expect("a readable entry").path())
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    let fake = fake();
    for path in files.iter().filter(|p| p.is_file()) {
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let data = std::fs::read(path).expect("a readable regression file");
        check(&fake, &data)
            .await
            .unwrap_or_else(|v| panic!("{}: {v}", path.display()));
    }
}

#[tokio::test]
async fn seeded_requests_on_every_endpoint_get_a_2xx_or_a_talon_shaped_4xx_and_rejections_change_nothing()
 {
    let fake = fake();
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    for i in 0..CASES {
        let mut data = vec![0; rng.random_range(0..=512)];
        rng.fill_bytes(&mut data);
        // Every endpoint in turn, mostly with the right method and key.
        if let Some(first) = data.first_mut() {
            *first = u8::try_from(i % ENDPOINTS.len()).expect("few endpoints");
        }
        if data.len() > 3 && rng.random_ratio(3, 4) {
            data[1] = 15;
            data[2] = 7;
            data[3] = 7;
        }
        check(&fake, &data)
            .await
            .unwrap_or_else(|v| panic!("case {i} ({data:?}): {v}"));
    }
}

#[test]
fn every_input_decodes_to_one_request() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..CASES {
        let mut data = vec![0; rng.random_range(0..=64)];
        rng.fill_bytes(&mut data);
        let request = FuzzRequest::from_bytes(&data);
        assert_eq!(request, FuzzRequest::from_bytes(&data));
        assert!(request.uri.starts_with('/'), "{request:?}");
    }
}
