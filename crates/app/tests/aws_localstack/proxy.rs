//! A recording proxy between EventBridge and Antaeus: it forwards each POST and keeps what
//! was sent and answered, so a test sees the deliveries as EventBridge made them (path, query,
//! headers, body) and can make one again.

use std::sync::Mutex;

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

/// One POST that reached the proxy, and what Antaeus answered.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Path and query string.
    pub path: String,
    pub api_key: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// The body as JSON: the EventBridge event.
    pub event: Value,
    /// Antaeus' status code and JSON answer.
    pub status: u16,
    pub answer: Value,
}

impl Delivery {
    /// Whether the event came from the rule whose ARN ends with `rule` (`rule/<name>`).
    pub fn is_from(&self, rule: &str) -> bool {
        let resources = self.event["resources"].as_array();
        resources.is_some_and(|r| {
            r.iter()
                .any(|arn| arn.as_str().is_some_and(|a| a.ends_with(rule)))
        })
    }
}

/// The running proxy.
pub struct RecordingProxy {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    recorder: web::Data<Recorder>,
}

struct Recorder {
    upstream: String,
    client: reqwest::Client,
    deliveries: Mutex<Vec<Delivery>>,
}

impl RecordingProxy {
    /// Starts a proxy to `upstream` (`http://host:port`) on a free port.
    pub fn start(upstream: String) -> Self {
        let recorder = web::Data::new(Recorder {
            upstream,
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            deliveries: Mutex::new(Vec::new()),
        });
        let data = recorder.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::post().to(forward))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("bind the proxy");
        let address = format!("http://127.0.0.1:{}", server.addrs()[0].port());
        tokio::spawn(server.run());
        Self { address, recorder }
    }

    /// Every delivery so far, in the order they were answered.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.recorder.deliveries.lock().unwrap().clone()
    }

    /// The first delivery from `rule` (see [`Delivery::is_from`]).
    pub fn first_from(&self, rule: &str) -> Option<Delivery> {
        self.deliveries().into_iter().find(|d| d.is_from(rule))
    }
}

async fn forward(req: HttpRequest, body: web::Bytes, rec: web::Data<Recorder>) -> HttpResponse {
    let header = |name: &str| {
        let value = req.headers().get(name).and_then(|v| v.to_str().ok());
        value.map(str::to_owned)
    };
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let mut request = rec.client.post(format!("{}{path}", rec.upstream));
    for name in ["x-api-key", "content-type"] {
        if let Some(value) = header(name) {
            request = request.header(name, value);
        }
    }
    let (status, answer) = match request.body(body.to_vec()).send().await {
        Ok(response) => (
            response.status().as_u16(),
            response.bytes().await.unwrap_or_default(),
        ),
        Err(e) => (502, web::Bytes::from(e.to_string())),
    };
    rec.deliveries.lock().unwrap().push(Delivery {
        path: path.to_owned(),
        api_key: header("x-api-key"),
        content_type: header("content-type"),
        event: serde_json::from_slice(&body).unwrap_or(Value::Null),
        body: body.to_vec(),
        status,
        answer: serde_json::from_slice(&answer).unwrap_or(Value::Null),
    });
    HttpResponse::build(StatusCode::from_u16(status).unwrap())
        .content_type("application/json")
        .body(answer)
}
