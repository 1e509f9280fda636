//! The grant replay recorder: group commit on a held connection.

mod common;

use std::time::Duration;

use fullmakt_service::replay::ReplayRecorder;
use fullmakt_store::GrantUse;

fn grant(jti: &str) -> GrantUse {
    GrantUse { client_id: "client".into(), jti: jti.into(), expires_at: i64::MAX / 2 }
}

#[tokio::test]
async fn concurrent_uses_of_one_grant_let_exactly_one_through() {
    for (store, _dir) in common::stores().await {
        let recorder = std::sync::Arc::new(ReplayRecorder::start(store.clone()));
        let uses: Vec<_> = (0..20)
            .map(|i| {
                let recorder = recorder.clone();
                let jti = if i % 2 == 0 { "same".to_owned() } else { format!("own-{i}") };
                tokio::spawn(async move { (jti.clone(), recorder.record(grant(&jti)).await.unwrap().fresh) })
            })
            .collect();
        let mut same_fresh = 0;
        for u in uses {
            let (jti, fresh) = u.await.unwrap();
            if jti == "same" {
                same_fresh += usize::from(fresh);
            } else {
                assert!(fresh, "{jti} was used once");
            }
        }
        assert_eq!(same_fresh, 1);
        assert!(!recorder.record(grant("same")).await.unwrap().fresh);
    }
}

#[tokio::test]
async fn closing_the_store_ends_the_recorders_hold_on_its_connection() {
    for (store, _dir) in common::stores().await {
        let recorder = ReplayRecorder::start(store.clone());
        assert!(recorder.record(grant("before close")).await.unwrap().fresh);
        // The recorder lives on with a connection out of the pool; closing still finishes, and
        // the recorder stops writing through the connection it held.
        tokio::time::timeout(Duration::from_secs(10), store.close()).await.expect("closing finishes");
        tokio::task::yield_now().await;
        assert!(recorder.record(grant("after close")).await.is_err(), "a closed store records nothing");
    }
}
