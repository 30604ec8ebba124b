//! Catalog reads: search, filters, paging, item documents and error negotiation.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use serde_json::Value;

use crate::common::*;

/// Every item of a listing, following the pages (limit 100).
async fn all_pages(t: &TestApp, query: &str) -> (u64, Vec<Value>) {
    let mut items = Vec::new();
    let mut total = None;
    loop {
        let sep = if query.is_empty() { "" } else { "&" };
        let page = t
            .get_json(&format!(
                "/api/v1/items?{query}{sep}limit=100&offset={}",
                items.len()
            ))
            .await;
        let page_total = page["total"].as_u64().unwrap();
        assert_eq!(
            *total.get_or_insert(page_total),
            page_total,
            "total is stable"
        );
        let batch = page["items"].as_array().unwrap().clone();
        let done = batch.is_empty() || items.len() + batch.len() >= page_total as usize;
        items.extend(batch);
        if done {
            break;
        }
    }
    let total = total.unwrap();
    assert_eq!(items.len() as u64, total, "pages add up to the total");
    (total, items)
}

fn codes(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|i| i["implementation_code"].as_str().unwrap().to_string())
        .collect()
}

fn names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect()
}

/// The exported items (the whole current catalog) matching a predicate, as codes.
fn export_codes(export: &Value, keep: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    export["items"]
        .as_array()
        .unwrap()
        .iter()
        // The public list hides cancelled items (see cancelled_items_are_hidden_unless_asked_for).
        .filter(|i| i["status"] != "cancelled" && keep(i))
        .map(|i| i["implementation_code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn search_housing_fund_finds_every_fund_item_with_highlights() {
    let t = TestApp::new().await;
    let (total, items) = all_pages(&t, &format!("q={}", enc("公积金"))).await;
    assert!(total >= 3, "at least three housing-fund items, got {total}");
    for item in &items {
        let name = item["name"].as_str().unwrap();
        assert!(name.contains("公积金"), "{name} is a housing-fund item");
        let highlight = item["highlight"].as_str().unwrap();
        assert!(
            highlight.contains("<b>"),
            "highlight marks the match: {highlight}"
        );
        assert!(highlight.contains("公积金</b>"), "{highlight}");
        // The highlight is the name with tags added, nothing else.
        assert_eq!(highlight.replace("<b>", "").replace("</b>", ""), name);
    }
    // Every item named after the fund is found.
    let export = t.export().await;
    let expected = export_codes(&export, |i| i["name"].as_str().unwrap().contains("公积金"));
    assert_eq!(codes(&items), expected);
    assert!(names(&items).contains(&"购买自住住房提取住房公积金".to_string()));
}

#[tokio::test]
async fn search_two_character_synonym_shebao_finds_social_insurance_items() {
    let t = TestApp::new().await;
    let page = t
        .get_json(&format!("/api/v1/items?q={}&limit=100", enc("社保")))
        .await;
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty(), "社保 finds something");
    // An item whose name says 社会保险 but not 社保 is found through the synonym.
    let synonym_hit = items
        .iter()
        .find(|i| {
            let n = i["name"].as_str().unwrap();
            n.contains("社会保险") && !n.contains("社保")
        })
        .unwrap_or_else(|| panic!("no 社会保险 item among {:?}", names(items)));
    assert!(
        synonym_hit["highlight"]
            .as_str()
            .unwrap()
            .contains("<b>社会保险</b>"),
        "{synonym_hit}"
    );
    // The best hits are about social insurance by name.
    for hit in items.iter().take(2) {
        let n = hit["name"].as_str().unwrap();
        assert!(n.contains("社保") || n.contains("社会保险"), "{n}");
    }
}

#[tokio::test]
async fn search_hukou_finds_household_registration_items() {
    let t = TestApp::new().await;
    let page = t
        .get_json(&format!("/api/v1/items?q={}&limit=100", enc("户口")))
        .await;
    let items = page["items"].as_array().unwrap();
    let huji = items
        .iter()
        .find(|i| {
            let n = i["name"].as_str().unwrap();
            n.contains("户籍") && !n.contains("户口")
        })
        .unwrap_or_else(|| panic!("no 户籍 item among {:?}", names(items)));
    assert!(
        huji["highlight"].as_str().unwrap().contains("<b>户籍</b>"),
        "{huji}"
    );
    let first = items[0]["name"].as_str().unwrap();
    assert!(first.contains("户籍") || first.contains("户口"), "{first}");
}

#[tokio::test]
async fn list_without_query_is_the_whole_catalog_ordered_by_code() {
    let t = TestApp::new().await;
    let (total, items) = all_pages(&t, "").await;
    assert_eq!(
        total, 141,
        "the demo catalog has 142 items, one of them cancelled"
    );
    let listed: Vec<&str> = items
        .iter()
        .map(|i| i["implementation_code"].as_str().unwrap())
        .collect();
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(listed, sorted, "ordered by code, no duplicates");
    for i in &items {
        assert!(i.get("highlight").is_none(), "no highlight without text");
        assert_eq!(i["version"], 1);
        assert!(
            ["active", "suspended", "cancelled"].contains(&i["status"].as_str().unwrap()),
            "{i}"
        );
    }
    assert!(items.iter().any(|i| i["status"] == "active"));
    // The summary agrees with the stored document.
    let first = &items[0];
    let doc = t
        .item_doc(first["implementation_code"].as_str().unwrap())
        .await;
    for key in [
        "name",
        "base_code",
        "item_type",
        "department_code",
        "division_code",
        "service_object",
        "status",
    ] {
        assert_eq!(first[key], doc[key], "{key}");
    }
}

#[tokio::test]
async fn paging_is_consistent() {
    let t = TestApp::new().await;
    let (_, all) = all_pages(&t, "").await;
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let page = t
            .get_json(&format!("/api/v1/items?limit=25&offset={offset}"))
            .await;
        assert_eq!(page["total"], 141);
        assert_eq!(page["limit"], 25);
        assert_eq!(page["offset"], offset);
        let batch = page["items"].as_array().unwrap();
        assert_eq!(batch.len(), 25.min(141 - offset));
        seen.extend(batch.iter().cloned());
        offset += 25;
        if offset >= 141 {
            break;
        }
    }
    assert_eq!(seen, all, "pages of 25 concatenate to the full listing");

    // Past the end: no items, same total.
    let page = t.get_json("/api/v1/items?limit=10&offset=500").await;
    assert_eq!(page["total"], 141);
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
    // The page size is clamped to 1..=100.
    let page = t.get_json("/api/v1/items?limit=1000").await;
    assert_eq!(page["limit"], 100);
    assert_eq!(page["items"].as_array().unwrap().len(), 100);
    let page = t.get_json("/api/v1/items?limit=0").await;
    assert_eq!(page["limit"], 1);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    // Default page.
    let page = t.get_json("/api/v1/items").await;
    assert_eq!(page["limit"], 20);
    assert_eq!(page["offset"], 0);

    // Search results page the same way.
    let q = enc("公积金");
    let full = t.get_json(&format!("/api/v1/items?q={q}&limit=100")).await;
    let total = full["total"].as_u64().unwrap() as usize;
    let mut paged = Vec::new();
    for offset in (0..total).step_by(2) {
        let page = t
            .get_json(&format!("/api/v1/items?q={q}&limit=2&offset={offset}"))
            .await;
        assert_eq!(page["total"].as_u64().unwrap() as usize, total);
        paged.extend(page["items"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(&paged, full["items"].as_array().unwrap());

    // A non-number is a problem, not a 500.
    t.get("/api/v1/items?limit=abc")
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_query");
    t.get("/api/v1/items?offset=-1")
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_query");
}

#[tokio::test]
async fn division_filter_includes_parents_and_excludes_siblings() {
    let t = TestApp::new().await;
    let export = t.export().await;
    let visible: BTreeSet<&str> = ["330106", "330100", "330000", "339900"].into();
    for query in [
        "division=330106".to_string(),
        format!("division=330106&q={}", enc("登记")),
    ] {
        let (_, items) = all_pages(&t, &query).await;
        assert!(!items.is_empty(), "{query}");
        for i in &items {
            let d = i["division_code"].as_str().unwrap();
            assert!(
                visible.contains(d),
                "{query}: {d} is not visible from 330106"
            );
        }
        let found: BTreeSet<&str> = items
            .iter()
            .map(|i| i["division_code"].as_str().unwrap())
            .collect();
        assert!(
            found.contains("330106") && found.contains("330100"),
            "{found:?}"
        );
    }
    let (total, items) = all_pages(&t, "division=330106").await;
    let expected = export_codes(&export, |i| {
        visible.contains(i["division_code"].as_str().unwrap())
    });
    assert_eq!(total as usize, expected.len());
    assert_eq!(codes(&items), expected);

    // An item of 西湖区 only is not served to 萧山区 (330109), though city items are.
    let xihu_only = export_codes(&export, |i| i["division_code"] == "330106");
    assert!(!xihu_only.is_empty());
    let (_, xiaoshan) = all_pages(&t, "division=330109").await;
    let xiaoshan_codes = codes(&xiaoshan);
    assert!(xiaoshan_codes.is_disjoint(&xihu_only));
    assert!(xiaoshan.iter().any(|i| i["division_code"] == "330100"));
    // And through search too.
    let death = t.find_code("户口", "死亡户口注销").await;
    assert!(xihu_only.contains(&death));
    let page = t
        .get_json(&format!(
            "/api/v1/items?q={}&division=330109&limit=100",
            enc("户口")
        ))
        .await;
    assert!(!codes(page["items"].as_array().unwrap()).contains(&death));
    let page = t
        .get_json(&format!(
            "/api/v1/items?q={}&division=330106&limit=100",
            enc("户口")
        ))
        .await;
    assert!(codes(page["items"].as_array().unwrap()).contains(&death));
}

#[tokio::test]
async fn invalid_division_filter_is_a_parameter_problem() {
    let t = TestApp::new().await;
    for bad in ["abc", "99", "990000"] {
        let r = t.get(&format!("/api/v1/items?division={bad}")).await;
        assert!(
            r.status.is_client_error(),
            "division={bad}: {} {}",
            r.status,
            r.text()
        );
        let p = r.problem(StatusCode::BAD_REQUEST, "invalid_parameter");
        assert_eq!(p["errors"][0]["path"], "division", "{p}");
    }
}

#[tokio::test]
async fn department_service_object_type_and_life_event_filters() {
    let t = TestApp::new().await;
    let export = t.export().await;

    let fund = "123301000597435545";
    let (_, items) = all_pages(&t, &format!("department={fund}")).await;
    assert_eq!(
        codes(&items),
        export_codes(&export, |i| i["department_code"] == fund)
    );
    assert!(items.len() >= 3);

    // Organisation: items for organisations or both, never person-only ones.
    let (_, items) = all_pages(&t, "service_object=organisation").await;
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["service_object"] != "person"));
    assert_eq!(
        codes(&items),
        export_codes(&export, |i| i["service_object"] != "person")
    );
    let (_, items) = all_pages(&t, "service_object=person").await;
    assert!(items.iter().all(|i| i["service_object"] != "organisation"));
    // Same through search.
    let page = t
        .get_json(&format!(
            "/api/v1/items?q={}&service_object=organisation&limit=100",
            enc("公积金")
        ))
        .await;
    let found = page["items"].as_array().unwrap();
    assert!(!found.is_empty());
    assert!(
        found.iter().all(|i| i["service_object"] != "person"),
        "{page}"
    );

    let (_, items) = all_pages(&t, "item_type=licensing").await;
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["item_type"] == "licensing"));
    assert_eq!(
        codes(&items),
        export_codes(&export, |i| i["item_type"] == "licensing")
    );

    let (_, items) = all_pages(&t, "life_event=housing").await;
    let expected = export_codes(&export, |i| {
        i["life_events"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e == "housing"))
    });
    assert!(!expected.is_empty());
    assert_eq!(codes(&items), expected);

    // Combined: licensing items of 330106 for organisations.
    let (_, items) = all_pages(
        &t,
        "division=330106&item_type=licensing&service_object=organisation",
    )
    .await;
    for i in &items {
        assert_eq!(i["item_type"], "licensing");
        assert_ne!(i["service_object"], "person");
    }

    // Sub-items of the housing-fund main item.
    let (_, items) = all_pages(&t, &format!("parent={HOUSING_FUND_MAIN}")).await;
    assert!(items.len() >= 3);
    assert!(items.iter().all(|i| i["parent_code"] == HOUSING_FUND_MAIN));

    // Empty values mean no filter.
    let page = t
        .get_json("/api/v1/items?service_object=&item_type=&life_event=&division=&department=")
        .await;
    assert_eq!(page["total"], 141);
}

#[tokio::test]
async fn bad_enum_values_are_invalid_parameter_problems() {
    let t = TestApp::new().await;
    for (param, value) in [
        ("service_object", "alien"),
        ("item_type", "licence"),
        ("life_event", "HOUSING"),
    ] {
        let r = t.get(&format!("/api/v1/items?{param}={value}")).await;
        let p = r.problem(StatusCode::BAD_REQUEST, "invalid_parameter");
        assert_eq!(p["errors"][0]["path"], param);
        assert_eq!(p["errors"][0]["code"], "invalid_value");
        assert!(p["message_en"].as_str().unwrap().contains(value), "{p}");
        // Also with text.
        let r = t
            .get(&format!(
                "/api/v1/items?q={}&{param}={value}",
                enc("公积金")
            ))
            .await;
        r.problem(StatusCode::BAD_REQUEST, "invalid_parameter");
    }
}

#[tokio::test]
async fn item_document_and_not_found_problem() {
    let t = TestApp::new().await;
    let r = t.get(&format!("/api/v1/items/{HOUSING_FUND_MAIN}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=0, must-revalidate")
    );
    assert_eq!(
        r.header("etag"),
        Some(format!("\"{HOUSING_FUND_MAIN}-1\"").as_str())
    );
    let doc = r.json();
    assert_eq!(doc["implementation_code"], HOUSING_FUND_MAIN);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["current"], true);
    assert!(
        doc["published_at"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .is_ok()
    );
    let item = &doc["item"];
    assert_eq!(item["name"], "住房公积金提取");
    assert_eq!(item["implementation_code"], HOUSING_FUND_MAIN);
    assert_eq!(item["statutory_limit"], 3);
    assert_eq!(item["online_depth"], "IV");
    assert_eq!(item["materials"].as_array().unwrap().len(), 2);
    // The exported document is the same.
    let export = t.export().await;
    let exported = export["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["implementation_code"] == HOUSING_FUND_MAIN)
        .unwrap();
    assert_eq!(exported, item);

    // Unknown code: 404 problem, Chinese title by default.
    let r = t.get("/api/v1/items/NOSUCHITEM").await;
    let p = r.problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(p["title"], p["message_zh"]);
    assert!(p["message_zh"].as_str().unwrap().contains("事项"));
    assert!(p["message_zh"].as_str().unwrap().contains("NOSUCHITEM"));
    assert!(p["message_en"].as_str().unwrap().contains("does not exist"));
    assert!(p.get("errors").is_none(), "no empty errors list: {p}");

    // English when asked for.
    for lang in ["en", "en-US,en;q=0.9,zh-CN;q=0.8", "EN-gb"] {
        let r = t
            .send(
                req(Method::GET, "/api/v1/items/NOSUCHITEM")
                    .header(header::ACCEPT_LANGUAGE, lang)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        let p = r.problem(StatusCode::NOT_FOUND, "not_found");
        assert_eq!(p["title"], p["message_en"], "{lang}");
    }
    // Chinese first stays Chinese.
    let r = t
        .send(
            req(Method::GET, "/api/v1/items/NOSUCHITEM")
                .header(header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9,en;q=0.8")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let p = r.problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(p["title"], p["message_zh"]);
    // ?lang=en works too.
    let p = t
        .get("/api/v1/items/NOSUCHITEM?lang=en")
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(p["title"], p["message_en"]);

    // Other lookups of an unknown item are 404 as well.
    for uri in [
        "/api/v1/items/NOSUCHITEM/versions",
        "/api/v1/items/NOSUCHITEM/versions/1",
        "/api/v1/items/NOSUCHITEM/guide",
        "/api/v1/items/NOSUCHITEM/guide/S01",
    ] {
        t.get(uri).await.problem(StatusCode::NOT_FOUND, "not_found");
    }
    // A non-numeric version is a path problem.
    t.get(&format!("/api/v1/items/{HOUSING_FUND_MAIN}/versions/one"))
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_path");
}

#[tokio::test]
async fn departments_and_divisions() {
    let t = TestApp::new().await;
    let all = t.get_json("/api/v1/departments").await;
    let all = all.as_array().unwrap();
    assert!(all.len() > 10);
    let fund = all
        .iter()
        .find(|d| d["code"] == "123301000597435545")
        .unwrap();
    assert_eq!(fund["name"], "杭州住房公积金管理中心");
    let one = t.get_json("/api/v1/departments/123301000597435545").await;
    assert_eq!(&one, fund);
    let of_city = t.get_json("/api/v1/departments?division=330100").await;
    let of_city = of_city.as_array().unwrap();
    assert!(of_city.iter().all(|d| d["division_code"] == "330100"));
    assert!(of_city.iter().any(|d| d["code"] == "123301000597435545"));
    t.get("/api/v1/departments/91330100716105852F")
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");

    let divisions = t.get_json("/api/v1/divisions").await;
    let divisions = divisions.as_array().unwrap();
    let xihu = divisions.iter().find(|d| d["code"] == "330106").unwrap();
    assert_eq!(xihu["name"], "西湖区");
    assert_eq!(xihu["level"], "county");
    assert_eq!(xihu["parent_code"], "330100");
    let detail = t.get_json("/api/v1/divisions/330100").await;
    assert_eq!(detail["name"], "杭州市");
    assert_eq!(detail["level"], "city");
    let ancestors: Vec<&str> = detail["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(ancestors, ["330000"]);
    let children: BTreeSet<&str> = detail["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert!(children.contains("330106") && children.contains("330109"));
    assert!(!children.contains("330200"));
    let xihu = t.get_json("/api/v1/divisions/330106").await;
    let ancestors: Vec<&str> = xihu["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(ancestors, ["330100", "330000"], "nearest first");
    t.get("/api/v1/divisions/110105")
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn odd_search_text_and_extreme_paging_never_fail() {
    let t = TestApp::new().await;
    let long = "公积金".repeat(2000);
    for q in [
        "怎么办理", // stop words only
        "<script>alert(1)</script>",
        "*",
        "AND OR NOT",
        "\"",
        "(",
        "title:x",
        "😀",
        "公积金 <b>",
        long.as_str(),
    ] {
        let r = t.get(&format!("/api/v1/items?q={}", enc(q))).await;
        assert_eq!(r.status, StatusCode::OK, "{q:.20}: {}", r.text());
        let page = r.json();
        for hit in page["items"].as_array().unwrap() {
            let h = hit["highlight"].as_str().unwrap();
            assert!(!h.contains("<script"), "{h}");
            let name = hit["name"].as_str().unwrap();
            assert_eq!(h.replace("<b>", "").replace("</b>", ""), name);
        }
    }
    // Markup in the query is just text.
    let page = t
        .get_json(&format!("/api/v1/items?q={}&limit=100", enc("公积金 <b>")))
        .await;
    assert!(page["total"].as_u64().unwrap() >= 3);
    // Blank text lists the catalog.
    assert_eq!(t.get_json("/api/v1/items?q=%20%20").await["total"], 141);

    // Offsets far past the end: an empty page with the right total, with or without text
    // (the search engine reserves room for offset + limit hits; this must not overflow).
    for offset in [
        "1000",
        "1000000000000",
        "9223372036854775807",
        "18446744073709551615",
    ] {
        for q in ["", "&q=%E5%85%AC%E7%A7%AF%E9%87%91"] {
            let r = t.get(&format!("/api/v1/items?offset={offset}{q}")).await;
            assert_eq!(r.status, StatusCode::OK, "offset {offset}{q}: {}", r.text());
            let page = r.json();
            assert_eq!(page["items"].as_array().unwrap().len(), 0);
            assert_eq!(page["offset"].to_string(), offset);
            assert!(page["total"].as_u64().unwrap() > 0);
        }
    }
    t.get("/api/v1/items?offset=18446744073709551616")
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_query");
}

#[tokio::test]
async fn cancelled_items_are_hidden_unless_asked_for() {
    let t = TestApp::new().await;
    let export = t.export().await;
    let cancelled: Vec<&Value> = export["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "cancelled")
        .collect();
    assert_eq!(cancelled.len(), 1, "the demo keeps one cancelled item");
    let code = cancelled[0]["implementation_code"].as_str().unwrap();
    let name = cancelled[0]["name"].as_str().unwrap();
    for query in [String::new(), format!("q={}", enc(name))] {
        let (_, items) = all_pages(&t, &query).await;
        assert!(codes(&items).iter().all(|c| c != code), "{query}");
        let (_, items) = all_pages(&t, &format!("{query}&include_cancelled=true")).await;
        assert!(codes(&items).iter().any(|c| c == code), "{query}");
    }
    // Cases filed under it can still read it.
    assert_eq!(t.item_doc(code).await["status"], "cancelled");
}
