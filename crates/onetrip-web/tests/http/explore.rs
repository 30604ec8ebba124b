use crate::common::*;
#[tokio::test]
async fn explore() {
    let t = TestApp::new().await;
    for q in ["公积金", "社保", "户口"] {
        let v = t
            .get_json(&format!("/api/v1/items?q={}&limit=100", enc(q)))
            .await;
        println!("== {q} total {}", v["total"]);
        for i in v["items"].as_array().unwrap() {
            println!(
                "{} {} {} {}",
                i["implementation_code"], i["name"], i["division_code"], i["highlight"]
            );
        }
    }
    let v = t.get_json("/api/v1/openapi.json").await;
    for (p, m) in v["paths"].as_object().unwrap() {
        println!(
            "{p} {:?}",
            m.as_object().unwrap().keys().collect::<Vec<_>>()
        );
    }
    println!("{}", v["openapi"]);
}
