//! DynamoDB failing mid-request: the device is answered in the protocol's terms, and nothing
//! is lost or changed.

use portal_auth_tests::app::{DEVICE_CODE_GRANT, answer_of, closed_url, form_post, spawn_app};

#[tokio::test]
async fn dynamodb_down_means_slow_down_for_a_poll_and_503_for_a_new_code_and_no_change() {
    let app = spawn_app().await;
    let code = app.authorize_device().await.body["device_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let broken = app.with_dynamodb_at(&closed_url());
    app.advance_secs(5);
    let client_id = &app.pool.public_client_id;
    let poll = format!("grant_type={DEVICE_CODE_GRANT}&client_id={client_id}&device_code={code}");
    let a = answer_of(device_token::handle(&broken, form_post("/prod/device/token", &poll)).await)
        .await;
    assert_eq!((a.status, a.error()), (400, "slow_down"), "{:?}", a.body);

    let new = format!("client_id={client_id}");
    let a =
        answer_of(device_code::handle(&broken, form_post("/prod/device/code", &new)).await).await;
    assert_eq!(
        (a.status, a.error()),
        (503, "temporarily_unavailable"),
        "{:?}",
        a.body
    );
    assert!(
        !a.body.to_string().contains("127.0.0.1"),
        "no internal detail sent: {:?}",
        a.body
    );

    // The grant is as it was: the next on-time poll through the healthy store is pending.
    assert_eq!(
        app.poll(client_id, &code).await.error(),
        "authorization_pending"
    );
}
