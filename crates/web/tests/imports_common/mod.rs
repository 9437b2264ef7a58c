//! Helpers of the import tests: uploading a file, mapping its columns, waiting for the
//! background job, reading a download and a module's names through the API.

#![allow(dead_code)]

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::common::Api;

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../io/tests/fixtures");

pub async fn upload(api: &Api, module: &str, name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    let r = api
        .client
        .post(format!("{}/api/v1/{module}/imports", api.base))
        .bearer_auth(&api.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub async fn bytes(api: &Api, path: &str) -> (u16, Vec<u8>) {
    let r = api
        .client
        .get(format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

/// Waits until the import reaches one of `states` (the job runner works in the background).
pub async fn wait(api: &Api, id: i64, states: &[&str]) -> Value {
    for _ in 0..300 {
        let (s, v) = api.get(&format!("/api/v1/imports/{id}")).await;
        assert_eq!(s, 200, "{v}");
        if states.contains(&v["state"].as_str().unwrap_or_default()) {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("import {id} never reached {states:?}");
}

pub async fn map(api: &Api, id: i64, mapping: Value, on_duplicate: &str) -> Value {
    api.ok(
        "PUT",
        &format!("/api/v1/imports/{id}/mapping"),
        Some(json!({"mapping": mapping, "on_duplicate": on_duplicate})),
    )
    .await
}

pub async fn names(api: &Api, module: &str) -> Vec<String> {
    let v = api
        .ok(
            "GET",
            &format!("/api/v1/{module}?limit=500&sort=name"),
            None,
        )
        .await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}
