//! `ListFunctions` and `GetFunction`.

use crate::common;

use common::{api_error, assert_json, call, fixture, service};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_functions_lists_a_namespace() {
    let s = service();
    let body = call(&s, "ListFunctions", json!({})).await;
    let names: Vec<_> = body["Response"]["Functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["FunctionName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["fails", "hello", "not-web", "raw", "slow", "web"]);
    assert_eq!(body["Response"]["TotalCount"], 6);
    assert_json(
        &body["Response"]["Functions"][1],
        &fixture("api/list_functions_hello.json"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_functions_pages_orders_and_searches() {
    let s = service();
    let body = call(
        &s,
        "ListFunctions",
        json!({"Order": "DESC", "Offset": 1, "Limit": 2}),
    )
    .await;
    let names: Vec<_> = body["Response"]["Functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["FunctionName"].clone())
        .collect();
    assert_eq!(names, [json!("slow"), json!("raw")]);
    assert_eq!(body["Response"]["TotalCount"], 6);
    let body = call(&s, "ListFunctions", json!({"SearchKey": "web"})).await;
    assert_eq!(body["Response"]["TotalCount"], 2);
    let body = call(&s, "ListFunctions", json!({"Namespace": "other"})).await;
    assert_eq!(body["Response"]["Functions"][0]["Namespace"], "other");
    assert_eq!(body["Response"]["TotalCount"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_functions_refuses_an_unknown_namespace_and_bad_values() {
    let s = service();
    assert_json(
        &call(&s, "ListFunctions", json!({"Namespace": "nope"})).await,
        &api_error(
            "ResourceNotFound.Namespace",
            "Namespace nope does not exist.",
        ),
    );
    assert_json(
        &call(&s, "ListFunctions", json!({"Orderby": "Size"})).await,
        &api_error("InvalidParameterValue", "The value `Size` of parameter `Orderby` is invalid: expected one of AddTime, ModTime, FunctionName."),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_function_describes_a_version() {
    let body = call(&service(), "GetFunction", json!({"FunctionName": "hello"})).await;
    assert_json(&body, &fixture("api/get_function_hello.json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_function_refuses_what_does_not_exist() {
    let s = service();
    assert_json(
        &call(&s, "GetFunction", json!({"FunctionName": "nope"})).await,
        &api_error("ResourceNotFound.Function", "Function nope does not exist."),
    );
    assert_json(
        &call(
            &s,
            "GetFunction",
            json!({"FunctionName": "hello", "Qualifier": "3"}),
        )
        .await,
        &api_error(
            "ResourceNotFound.Qualifier",
            "Version 3 of function hello does not exist.",
        ),
    );
    assert_json(
        &call(
            &s,
            "GetFunction",
            json!({"FunctionName": "hello", "Namespace": "nope"}),
        )
        .await,
        &api_error(
            "ResourceNotFound.Namespace",
            "Namespace nope does not exist.",
        ),
    );
    assert_json(
        &call(&s, "GetFunction", json!({})).await,
        &api_error(
            "MissingParameter",
            "The request is missing a required parameter `FunctionName`.",
        ),
    );
}
