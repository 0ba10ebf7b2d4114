use crate::api_tests;
use crate::helpers::TestApp;

api_tests!(health_answers_the_json_string_ok);

async fn health_answers_the_json_string_ok(app: TestApp) {
    let response = app.get("/rest/health").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.unwrap(), "\"ok\"");
}
