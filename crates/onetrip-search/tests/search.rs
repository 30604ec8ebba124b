//! Search behaviour over the demo catalog: words, synonyms, two-character queries, filters,
//! highlighting, updates and robustness.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::sync::OnceLock;

use onetrip_domain::catalog::{Catalog, LifeEvent, ServiceItem, ServiceObject};
use onetrip_search::{SearchIndex, SearchQuery};
use proptest::prelude::*;

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        serde_norway::from_str(include_str!("../../../data/demo/catalog.yaml")).unwrap()
    })
}

fn names() -> HashMap<String, String> {
    catalog()
        .departments
        .iter()
        .map(|d| (d.code.clone(), d.name.clone()))
        .collect()
}

fn index() -> SearchIndex {
    let index = SearchIndex::new(1, 15_000_000).unwrap();
    index.rebuild(&catalog().items, &names()).unwrap();
    index
}

fn shared() -> &'static SearchIndex {
    static INDEX: OnceLock<SearchIndex> = OnceLock::new();
    INDEX.get_or_init(index)
}

fn query(text: &str) -> SearchQuery {
    SearchQuery {
        text: text.to_string(),
        limit: 100,
        ..SearchQuery::default()
    }
}

fn item(code: &str) -> &'static ServiceItem {
    catalog()
        .items
        .iter()
        .find(|i| i.implementation_code == code)
        .unwrap()
}

fn found_names(q: &SearchQuery) -> Vec<String> {
    shared()
        .search(q)
        .unwrap()
        .hits
        .iter()
        .map(|h| item(&h.implementation_code).name.clone())
        .collect()
}

#[test]
fn indexes_every_item() {
    assert_eq!(shared().len(), catalog().items.len() as u64);
}

#[test]
fn housing_fund_query_finds_the_housing_fund_items() {
    let names = found_names(&query("公积金"));
    assert!(names.len() >= 3, "{names:?}");
    assert!(names.iter().all(|n| n.contains("公积金")), "{names:?}");
    assert!(
        names.iter().any(|n| n.contains("购买自住住房提取")),
        "{names:?}"
    );
    // The long form finds the same items through the synonym.
    let long = found_names(&query("住房公积金"));
    for n in &names {
        assert!(long.contains(n), "{n} missing for 住房公积金: {long:?}");
    }
}

#[test]
fn two_character_queries_and_synonyms_work() {
    let shebao = found_names(&query("社保"));
    assert!(
        shebao.iter().any(|n| n.contains("社会保险")),
        "社保 must find 社会保险 items: {shebao:?}"
    );
    let hukou = found_names(&query("户口"));
    assert!(
        hukou.iter().any(|n| n.contains("户籍")) && hukou.iter().any(|n| n.contains("户口")),
        "户口 must find 户口 and 户籍 items: {hukou:?}"
    );
    let id = found_names(&query("身份证"));
    assert!(id.iter().any(|n| n.contains("居民身份证")), "{id:?}");
}

#[test]
fn stop_words_and_phrasing_do_not_get_in_the_way() {
    let plain = found_names(&query("结婚登记"));
    let chatty = found_names(&query("我要怎么办理结婚登记"));
    assert!(!plain.is_empty());
    assert_eq!(plain, chatty);
    assert!(
        shared()
            .search(&query("的 了 怎么"))
            .unwrap()
            .hits
            .is_empty()
    );
    assert!(shared().search(&query("")).unwrap().hits.is_empty());
}

#[test]
fn falls_back_to_any_word_when_all_words_find_nothing() {
    let r = shared().search(&query("公积金 火星签证")).unwrap();
    assert!(r.total > 0, "fallback must find the 公积金 items");
}

#[test]
fn highlights_matches_and_escapes_html() {
    let r = shared().search(&query("公积金")).unwrap();
    assert!(
        r.hits.iter().all(|h| h.highlight.contains("<b>")),
        "{:?}",
        r.hits
    );

    let index = index();
    let mut evil = catalog().items[0].clone();
    evil.name = "<script>alert(1)</script>公积金".to_string();
    index.upsert(&[evil.clone()], &names()).unwrap();
    let hit = index
        .search(&query("公积金"))
        .unwrap()
        .hits
        .into_iter()
        .find(|h| h.implementation_code == evil.implementation_code)
        .unwrap();
    assert!(!hit.highlight.contains("<script>"), "{}", hit.highlight);
    assert!(
        hit.highlight.contains("&lt;script&gt;"),
        "{}",
        hit.highlight
    );
}

#[test]
fn filters_narrow_the_results() {
    let all = shared().search(&query("登记")).unwrap();
    let divisions = vec![
        "330106".to_string(),
        "330100".to_string(),
        "330000".to_string(),
        "339900".to_string(),
    ];
    let q = SearchQuery {
        divisions: Some(divisions.clone()),
        ..query("登记")
    };
    let filtered = shared().search(&q).unwrap();
    assert!(filtered.total > 0 && filtered.total < all.total);
    for h in &filtered.hits {
        assert!(divisions.contains(&item(&h.implementation_code).division_code));
    }

    let q = SearchQuery {
        service_object: Some(ServiceObject::Organisation),
        ..query("登记")
    };
    for h in &shared().search(&q).unwrap().hits {
        assert_ne!(
            item(&h.implementation_code).service_object,
            ServiceObject::Person
        );
    }

    let q = SearchQuery {
        life_event: Some(LifeEvent::Birth),
        ..query("登记")
    };
    let births = shared().search(&q).unwrap();
    assert!(births.total > 0);
    for h in &births.hits {
        assert!(
            item(&h.implementation_code)
                .life_events
                .contains(&LifeEvent::Birth)
        );
    }

    let dept = catalog().items[0].department_code.clone();
    let q = SearchQuery {
        department: Some(dept.clone()),
        ..query(&catalog().items[0].name)
    };
    let r = shared().search(&q).unwrap();
    assert!(r.total > 0);
    for h in &r.hits {
        assert_eq!(item(&h.implementation_code).department_code, dept);
    }
}

#[test]
fn paging_is_consistent() {
    let full = shared().search(&query("登记")).unwrap();
    let mut paged = Vec::new();
    for page in 0..(full.total / 5 + 1) {
        let q = SearchQuery {
            limit: 5,
            offset: page * 5,
            ..query("登记")
        };
        let r = shared().search(&q).unwrap();
        assert_eq!(r.total, full.total);
        paged.extend(r.hits.into_iter().map(|h| h.implementation_code));
    }
    let all: Vec<String> = full
        .hits
        .into_iter()
        .map(|h| h.implementation_code)
        .collect();
    assert_eq!(paged.len(), full.total.min(100));
    assert_eq!(
        paged[..all.len().min(paged.len())],
        all[..all.len().min(paged.len())]
    );
}

#[test]
fn upsert_replaces_and_rebuild_resets() {
    let index = index();
    let mut renamed = catalog().items[0].clone();
    let old_name = renamed.name.clone();
    renamed.name = "独一无二的测试事项名称".to_string();
    index.upsert(&[renamed.clone()], &names()).unwrap();
    assert_eq!(
        index.len(),
        catalog().items.len() as u64,
        "upsert must replace, not add"
    );
    let r = index.search(&query("独一无二")).unwrap();
    assert_eq!(r.hits.len(), 1);
    assert_eq!(r.hits[0].implementation_code, renamed.implementation_code);
    index.rebuild(&catalog().items, &names()).unwrap();
    assert!(index.search(&query("独一无二")).unwrap().hits.is_empty());
    assert!(index.search(&query(&old_name)).unwrap().total > 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn any_text_searches_without_panicking(text in "\\PC{0,40}", offset in 0usize..50) {
        let q = SearchQuery { offset, ..query(&text) };
        let r = shared().search(&q).unwrap();
        prop_assert!(r.hits.len() <= 100);
    }
}

#[test]
fn cancelled_items_are_hidden_unless_asked_for() {
    let index = index();
    let mut cancelled = catalog().items[0].clone();
    cancelled.name = "已取消的旧事项甲乙丙".to_string();
    cancelled.status = onetrip_domain::catalog::ItemStatus::Cancelled;
    index.upsert(&[cancelled.clone()], &names()).unwrap();
    assert_eq!(index.search(&query("甲乙丙")).unwrap().total, 0);
    let q = SearchQuery {
        include_cancelled: true,
        ..query("甲乙丙")
    };
    let r = index.search(&q).unwrap();
    assert_eq!(r.hits.len(), 1);
    assert_eq!(r.hits[0].implementation_code, cancelled.implementation_code);
}
