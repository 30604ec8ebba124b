//! Catalog search over a generated province-scale catalog (100,000 items), side by side with
//! SQLite FTS5 (trigram tokenizer) on the same data in the same run.
//!
//! Run with `cargo bench -p onetrip-search --bench search`. What it prints:
//! * index build throughput (items/s) of `SearchIndex::rebuild` with the product's settings
//!   (1 writer thread, 15 MB, as `App::open` does), and the FTS5 build time;
//! * per query kind: matches found by each engine and the latency p50/p95/p99/max over
//!   `ONETRIP_BENCH_QUERIES` (default 2,000) runs, measured on one thread, one query at a time;
//! * then criterion's usual estimates for a few representative queries.
//!
//! The catalog is generated from the demo catalog (data/demo/catalog.yaml, real items): every
//! item, its situations as sub-items (情形), 跨省通办/全省通办 variants, and licence items with their
//! 新办/变更/延续/注销/补发/换发 and 告知承诺制 sub-items, implemented by the matching department of
//! each of the 102 divisions of Zhejiang (province, 11 cities, 90 counties), shuffled with a fixed
//! seed and cut at `ONETRIP_BENCH_ITEMS` (default 100,000). Only the fields the index reads are
//! kept in full. The FTS5 peer is built in one statement and answers each query in one statement,
//! so that its figures are SQLite's plus one sqlx round trip (printed separately).
//!
//! Without `--bench` (e.g. `cargo test --benches`) it runs a small smoke version: 2,000 items and
//! 20 queries per kind. Benchmarks are not tests: nothing here asserts a timing.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::hint::black_box;
use std::str::FromStr;
use std::time::{Duration, Instant};

use criterion::Criterion;
use onetrip_domain::catalog::{
    Catalog, ItemType, LifeEvent, ResultType, ServiceItem, ServiceObject, Situation,
};
use onetrip_search::{SearchIndex, SearchQuery};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Row};

const DEMO_CATALOG: &str = include_str!("../../../data/demo/catalog.yaml");
const SEED: u64 = 0x0_7E1F_2026;
/// What `App::open` gives the index writer.
const WRITER_THREADS: usize = 1;
const WRITER_MEMORY: usize = 15_000_000;
const PAGE: usize = 20;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness (splitmix64): the catalog is the same on every run and machine.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Divisions: Zhejiang province-level bodies, 11 cities and their 90 county-level divisions.

/// (code, name) of a division.
type Named = (&'static str, &'static str);

#[rustfmt::skip]
const CITIES: &[(&str, &str, &[Named])] = &[
    ("330100", "杭州市", &[
        ("330102", "上城区"), ("330105", "拱墅区"), ("330106", "西湖区"), ("330108", "滨江区"),
        ("330109", "萧山区"), ("330110", "余杭区"), ("330111", "富阳区"), ("330112", "临安区"),
        ("330113", "临平区"), ("330114", "钱塘区"), ("330122", "桐庐县"), ("330127", "淳安县"),
        ("330182", "建德市"),
    ]),
    ("330200", "宁波市", &[
        ("330203", "海曙区"), ("330205", "江北区"), ("330206", "北仑区"), ("330211", "镇海区"),
        ("330212", "鄞州区"), ("330213", "奉化区"), ("330225", "象山县"), ("330226", "宁海县"),
        ("330281", "余姚市"), ("330282", "慈溪市"),
    ]),
    ("330300", "温州市", &[
        ("330302", "鹿城区"), ("330303", "龙湾区"), ("330304", "瓯海区"), ("330305", "洞头区"),
        ("330324", "永嘉县"), ("330326", "平阳县"), ("330327", "苍南县"), ("330328", "文成县"),
        ("330329", "泰顺县"), ("330381", "瑞安市"), ("330382", "乐清市"), ("330383", "龙港市"),
    ]),
    ("330400", "嘉兴市", &[
        ("330402", "南湖区"), ("330411", "秀洲区"), ("330421", "嘉善县"), ("330424", "海盐县"),
        ("330481", "海宁市"), ("330482", "平湖市"), ("330483", "桐乡市"),
    ]),
    ("330500", "湖州市", &[
        ("330502", "吴兴区"), ("330503", "南浔区"), ("330521", "德清县"), ("330522", "长兴县"),
        ("330523", "安吉县"),
    ]),
    ("330600", "绍兴市", &[
        ("330602", "越城区"), ("330603", "柯桥区"), ("330604", "上虞区"), ("330624", "新昌县"),
        ("330681", "诸暨市"), ("330683", "嵊州市"),
    ]),
    ("330700", "金华市", &[
        ("330702", "婺城区"), ("330703", "金东区"), ("330723", "武义县"), ("330726", "浦江县"),
        ("330727", "磐安县"), ("330781", "兰溪市"), ("330782", "义乌市"), ("330783", "东阳市"),
        ("330784", "永康市"),
    ]),
    ("330800", "衢州市", &[
        ("330802", "柯城区"), ("330803", "衢江区"), ("330822", "常山县"), ("330824", "开化县"),
        ("330825", "龙游县"), ("330881", "江山市"),
    ]),
    ("330900", "舟山市", &[
        ("330902", "定海区"), ("330903", "普陀区"), ("330921", "岱山县"), ("330922", "嵊泗县"),
    ]),
    ("331000", "台州市", &[
        ("331002", "椒江区"), ("331003", "黄岩区"), ("331004", "路桥区"), ("331022", "三门县"),
        ("331023", "天台县"), ("331024", "仙居县"), ("331081", "温岭市"), ("331082", "临海市"),
        ("331083", "玉环市"),
    ]),
    ("331100", "丽水市", &[
        ("331102", "莲都区"), ("331121", "青田县"), ("331122", "缙云县"), ("331123", "遂昌县"),
        ("331124", "松阳县"), ("331125", "云和县"), ("331126", "庆元县"),
        ("331127", "景宁畲族自治县"), ("331181", "龙泉市"),
    ]),
];

/// (division code, the prefix of its departments' names: 浙江省, 杭州市, 杭州市西湖区, 嘉善县…)
fn divisions() -> Vec<(String, String)> {
    let mut out = vec![("339900".to_string(), "浙江省".to_string())];
    for (code, name, counties) in CITIES {
        out.push(((*code).to_string(), (*name).to_string()));
        for (ccode, cname) in *counties {
            let prefix = if cname.ends_with('区') {
                format!("{name}{cname}")
            } else {
                (*cname).to_string()
            };
            out.push(((*ccode).to_string(), prefix));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Licence items of the national catalog that the demo does not cover: (licence or matter,
// department suffix, life event, who applies). Each gets 新办/变更/延续/注销/补发/换发 sub-items.

#[rustfmt::skip]
const LICENCES: &[(&str, &str, LifeEvent, ServiceObject)] = &[
    ("食品经营许可证", "市场监督管理局", LifeEvent::Operations, ServiceObject::Organisation),
    ("食品生产许可证", "市场监督管理局", LifeEvent::Operations, ServiceObject::Organisation),
    ("食品小作坊登记证", "市场监督管理局", LifeEvent::Operations, ServiceObject::Both),
    ("特种设备使用登记证", "市场监督管理局", LifeEvent::Operations, ServiceObject::Organisation),
    ("工业产品生产许可证", "市场监督管理局", LifeEvent::Operations, ServiceObject::Organisation),
    ("药品零售企业经营许可证", "市场监督管理局", LifeEvent::Operations, ServiceObject::Organisation),
    ("第二类医疗器械经营备案凭证", "市场监督管理局", LifeEvent::Operations, ServiceObject::Organisation),
    ("计量标准考核证书", "市场监督管理局", LifeEvent::Operations, ServiceObject::Organisation),
    ("个体工商户营业执照", "市场监督管理局", LifeEvent::Startup, ServiceObject::Person),
    ("农民专业合作社营业执照", "市场监督管理局", LifeEvent::Startup, ServiceObject::Organisation),
    ("道路运输经营许可证", "交通运输局", LifeEvent::Operations, ServiceObject::Organisation),
    ("道路运输从业人员从业资格证", "交通运输局", LifeEvent::Work, ServiceObject::Person),
    ("出租汽车驾驶员从业资格证", "交通运输局", LifeEvent::Work, ServiceObject::Person),
    ("网络预约出租汽车运输证", "交通运输局", LifeEvent::Operations, ServiceObject::Both),
    ("网络预约出租汽车驾驶员证", "交通运输局", LifeEvent::Work, ServiceObject::Person),
    ("道路货物运输驾驶员从业资格证", "交通运输局", LifeEvent::Work, ServiceObject::Person),
    ("公路超限运输许可", "交通运输局", LifeEvent::Operations, ServiceObject::Both),
    ("机动车维修经营备案", "交通运输局", LifeEvent::Operations, ServiceObject::Organisation),
    ("船舶营业运输证", "交通运输局", LifeEvent::Operations, ServiceObject::Both),
    ("排污许可证", "生态环境局", LifeEvent::Construction, ServiceObject::Organisation),
    ("建设项目环境影响报告表审批", "生态环境局", LifeEvent::Construction, ServiceObject::Organisation),
    ("危险废物经营许可证", "生态环境局", LifeEvent::Operations, ServiceObject::Organisation),
    ("辐射安全许可证", "生态环境局", LifeEvent::Operations, ServiceObject::Organisation),
    ("取水许可证", "水利局", LifeEvent::Construction, ServiceObject::Organisation),
    ("生产建设项目水土保持方案审批", "水利局", LifeEvent::Construction, ServiceObject::Organisation),
    ("河道管理范围内建设项目工程建设方案审批", "水利局", LifeEvent::Construction, ServiceObject::Organisation),
    ("农药经营许可证", "农业农村局", LifeEvent::Operations, ServiceObject::Both),
    ("兽药经营许可证", "农业农村局", LifeEvent::Operations, ServiceObject::Both),
    ("农作物种子生产经营许可证", "农业农村局", LifeEvent::Operations, ServiceObject::Both),
    ("动物防疫条件合格证", "农业农村局", LifeEvent::Operations, ServiceObject::Both),
    ("生猪定点屠宰证", "农业农村局", LifeEvent::Operations, ServiceObject::Organisation),
    ("水产苗种生产许可证", "农业农村局", LifeEvent::Operations, ServiceObject::Both),
    ("渔业捕捞许可证", "农业农村局", LifeEvent::Work, ServiceObject::Both),
    ("拖拉机和联合收割机登记证书", "农业农村局", LifeEvent::Operations, ServiceObject::Both),
    ("农村宅基地建房审批", "农业农村局", LifeEvent::Housing, ServiceObject::Person),
    ("娱乐场所经营许可证", "文化广电旅游局", LifeEvent::Operations, ServiceObject::Organisation),
    ("营业性演出许可证", "文化广电旅游局", LifeEvent::Operations, ServiceObject::Organisation),
    ("网络文化经营许可证", "文化广电旅游局", LifeEvent::Operations, ServiceObject::Organisation),
    ("旅行社业务经营许可证", "文化广电旅游局", LifeEvent::Operations, ServiceObject::Organisation),
    ("出版物零售经营许可证", "文化广电旅游局", LifeEvent::Operations, ServiceObject::Both),
    ("印刷经营许可证", "文化广电旅游局", LifeEvent::Operations, ServiceObject::Organisation),
    ("互联网上网服务营业场所经营许可证", "文化广电旅游局", LifeEvent::Operations, ServiceObject::Organisation),
    ("民办学校办学许可证", "教育局", LifeEvent::School, ServiceObject::Organisation),
    ("幼儿园办园许可证", "教育局", LifeEvent::School, ServiceObject::Organisation),
    ("教师资格证书", "教育局", LifeEvent::Work, ServiceObject::Person),
    ("校外培训机构办学许可证", "教育局", LifeEvent::School, ServiceObject::Organisation),
    ("医疗机构执业许可证", "卫生健康局", LifeEvent::Medical, ServiceObject::Organisation),
    ("母婴保健技术服务执业许可证", "卫生健康局", LifeEvent::Birth, ServiceObject::Organisation),
    ("放射诊疗许可证", "卫生健康局", LifeEvent::Medical, ServiceObject::Organisation),
    ("护士执业证书", "卫生健康局", LifeEvent::Work, ServiceObject::Person),
    ("乡村医生执业证书", "卫生健康局", LifeEvent::Work, ServiceObject::Person),
    ("供水单位卫生许可证", "卫生健康局", LifeEvent::Utilities, ServiceObject::Organisation),
    ("建筑工程施工许可证", "住房和城乡建设局", LifeEvent::Construction, ServiceObject::Organisation),
    ("商品房预售许可证", "住房和城乡建设局", LifeEvent::Housing, ServiceObject::Organisation),
    ("燃气经营许可证", "住房和城乡建设局", LifeEvent::Utilities, ServiceObject::Organisation),
    ("建筑业企业资质证书", "住房和城乡建设局", LifeEvent::Construction, ServiceObject::Organisation),
    ("房屋租赁登记备案证明", "住房和城乡建设局", LifeEvent::Housing, ServiceObject::Both),
    ("城镇污水排入排水管网许可证", "住房和城乡建设局", LifeEvent::Utilities, ServiceObject::Organisation),
    ("建设工程消防验收备案", "住房和城乡建设局", LifeEvent::Construction, ServiceObject::Organisation),
    ("建设工程规划许可证", "自然资源和规划局", LifeEvent::Construction, ServiceObject::Both),
    ("建设用地规划许可证", "自然资源和规划局", LifeEvent::Construction, ServiceObject::Organisation),
    ("乡村建设规划许可证", "自然资源和规划局", LifeEvent::Housing, ServiceObject::Both),
    ("临时用地审批", "自然资源和规划局", LifeEvent::Construction, ServiceObject::Both),
    ("采矿许可证", "自然资源和规划局", LifeEvent::Operations, ServiceObject::Organisation),
    ("林木采伐许可证", "林业局", LifeEvent::Operations, ServiceObject::Both),
    ("使用林地审核同意书", "林业局", LifeEvent::Construction, ServiceObject::Both),
    ("户外广告设施设置审批", "综合行政执法局", LifeEvent::Operations, ServiceObject::Both),
    ("城市建筑垃圾处置核准", "综合行政执法局", LifeEvent::Construction, ServiceObject::Organisation),
    ("临时占用城市道路审批", "综合行政执法局", LifeEvent::Construction, ServiceObject::Both),
    ("城市道路挖掘审批", "综合行政执法局", LifeEvent::Construction, ServiceObject::Organisation),
    ("危险化学品经营许可证", "应急管理局", LifeEvent::Operations, ServiceObject::Organisation),
    ("烟花爆竹经营（零售）许可证", "应急管理局", LifeEvent::Operations, ServiceObject::Both),
    ("非药品类易制毒化学品经营备案证明", "应急管理局", LifeEvent::Operations, ServiceObject::Organisation),
    ("烟草专卖零售许可证", "烟草专卖局", LifeEvent::Operations, ServiceObject::Both),
    ("劳务派遣经营许可证", "人力资源和社会保障局", LifeEvent::Operations, ServiceObject::Organisation),
    ("民办职业技能培训学校办学许可证", "人力资源和社会保障局", LifeEvent::Work, ServiceObject::Organisation),
    ("机动车登记证书", "公安局", LifeEvent::Operations, ServiceObject::Both),
    ("机动车驾驶证", "公安局", LifeEvent::Work, ServiceObject::Person),
    ("旅馆业特种行业许可证", "公安局", LifeEvent::Operations, ServiceObject::Organisation),
    ("公章刻制业特种行业许可证", "公安局", LifeEvent::Operations, ServiceObject::Organisation),
    ("剧毒化学品购买许可证", "公安局", LifeEvent::Operations, ServiceObject::Organisation),
    ("大型群众性活动安全许可", "公安局", LifeEvent::Operations, ServiceObject::Organisation),
    ("养老机构备案", "民政局", LifeEvent::Retirement, ServiceObject::Organisation),
    ("民办非企业单位登记证书", "民政局", LifeEvent::Startup, ServiceObject::Organisation),
    ("慈善组织公开募捐资格", "民政局", LifeEvent::Operations, ServiceObject::Organisation),
    ("殡葬服务机构设立审批", "民政局", LifeEvent::Funeral, ServiceObject::Organisation),
    ("宗教活动场所登记证", "民族宗教事务局", LifeEvent::Operations, ServiceObject::Organisation),
    ("人防工程拆除审批", "人民防空办公室", LifeEvent::Construction, ServiceObject::Organisation),
    ("档案查阅利用证明", "档案馆", LifeEvent::Work, ServiceObject::Person),
    ("气象探测环境保护范围内建设项目审批", "气象局", LifeEvent::Construction, ServiceObject::Organisation),
    ("雷电防护装置设计审核", "气象局", LifeEvent::Construction, ServiceObject::Organisation),
    ("体育类民办非企业单位登记审查", "体育局", LifeEvent::Startup, ServiceObject::Organisation),
    ("高危险性体育项目经营许可证", "体育局", LifeEvent::Operations, ServiceObject::Organisation),
    ("粮食收购企业备案", "发展和改革局", LifeEvent::Operations, ServiceObject::Organisation),
    ("企业投资项目备案", "发展和改革局", LifeEvent::Construction, ServiceObject::Organisation),
    ("固定资产投资项目节能审查", "发展和改革局", LifeEvent::Construction, ServiceObject::Organisation),
    ("对外贸易经营者备案", "商务局", LifeEvent::Operations, ServiceObject::Organisation),
    ("成品油零售经营批准证书", "商务局", LifeEvent::Operations, ServiceObject::Organisation),
    ("单用途商业预付卡备案", "商务局", LifeEvent::Operations, ServiceObject::Organisation),
    ("电力业务许可证", "经济和信息化局", LifeEvent::Utilities, ServiceObject::Organisation),
    ("无线电台执照", "经济和信息化局", LifeEvent::Operations, ServiceObject::Both),
];

const ACTIONS: &[&str] = &["新办", "变更", "延续", "注销", "补发", "换发"];

fn base_code_prefix(t: ItemType) -> u8 {
    match t {
        ItemType::Licensing => 1,
        ItemType::Benefit => 5,
        ItemType::Confirmation => 7,
        ItemType::Award => 8,
        ItemType::Adjudication => 9,
        ItemType::OtherPower => 10,
        ItemType::Filing => 12,
        ItemType::PublicService => 20,
    }
}

/// One kind of item before it is given to a division: the item (codes unset) and the kind of
/// department that implements it (name prefix such as 国家税务总局, name suffix such as 民政局).
struct Variant {
    item: ServiceItem,
    department: usize,
}

/// The demo department's name without its division: 杭州市西湖区民政局 → ("", "民政局"),
/// 国家税务总局杭州市税务局 → ("国家税务总局", "税务局").
fn department_kind(name: &str, division_names: &[String]) -> (String, String) {
    let mut prefix = String::new();
    let mut rest = name;
    for p in ["国家税务总局", "国网浙江省电力有限公司"] {
        if let Some(r) = rest.strip_prefix(p) {
            prefix = p.to_string();
            rest = r;
        }
    }
    let mut names: Vec<String> = division_names.to_vec();
    names.extend(
        [
            "浙江省",
            "杭州",
            "舟山市",
            "宁波市",
            "温州市",
            "嘉兴市",
            "金华市",
        ]
        .map(String::from),
    );
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    loop {
        let before = rest;
        for n in &names {
            if let Some(r) = rest.strip_prefix(n.as_str()) {
                rest = r;
            }
        }
        if before == rest {
            break;
        }
    }
    (prefix, rest.to_string())
}

/// Generates `n` catalog items and the department names the index shows.
fn generate(n: usize) -> (Vec<ServiceItem>, HashMap<String, String>) {
    let demo: Catalog = serde_norway::from_str(DEMO_CATALOG).expect("the demo catalog parses");
    let demo_division_names: Vec<String> = demo.divisions.iter().map(|d| d.name.clone()).collect();
    let demo_departments: HashMap<&str, &str> = demo
        .departments
        .iter()
        .map(|d| (d.code.as_str(), d.name.as_str()))
        .collect();
    let mut kinds: Vec<(String, String)> = Vec::new();
    let mut kind_of = |k: (String, String)| -> usize {
        match kinds.iter().position(|x| *x == k) {
            Some(i) => i,
            None => {
                kinds.push(k);
                kinds.len() - 1
            }
        }
    };

    // Strip what the index never reads, to keep 100k items small in memory.
    let slim = |item: &ServiceItem| -> ServiceItem {
        let mut item = item.clone();
        item.materials.clear();
        item.process.clear();
        item.legal_basis.truncate(1);
        for s in &mut item.situations {
            s.materials.clear();
            s.conditions.clear();
            s.guide.clear();
        }
        item
    };

    let mut variants: Vec<Variant> = Vec::new();
    let mut seen_names = BTreeSet::new();
    for item in &demo.items {
        // The demo has the same item at several levels; the generator adds the levels itself.
        if !seen_names.insert(item.name.clone()) {
            continue;
        }
        let dept_name = demo_departments
            .get(item.department_code.as_str())
            .copied()
            .unwrap_or("人民政府");
        let department = kind_of(department_kind(dept_name, &demo_division_names));
        let main = slim(item);
        for s in &item.situations {
            // A sub-item per situation (情形), as the national catalog splits 业务办理项.
            let mut sub = main.clone();
            sub.name = format!("{}（{}）", item.name, s.name);
            sub.situations = vec![Situation {
                code: "S01".to_string(),
                name: s.name.clone(),
                conditions: Vec::new(),
                materials: Vec::new(),
                promised_limit: None,
                guide: String::new(),
            }];
            variants.push(Variant {
                item: sub,
                department,
            });
        }
        // 跨省通办 for people, 全省通办 for organisations: the same item at any hall.
        let mut anywhere = main.clone();
        anywhere.name = if item.service_object == ServiceObject::Organisation {
            format!("{}（全省通办）", item.name)
        } else {
            format!("{}（跨省通办）", item.name)
        };
        variants.push(Variant {
            item: anywhere,
            department,
        });
        variants.push(Variant {
            item: main,
            department,
        });
    }
    let licence_template = demo
        .items
        .iter()
        .find(|i| i.item_type == ItemType::Licensing)
        .map(slim)
        .expect("the demo has a licensing item");
    for (object, suffix, life_event, who) in LICENCES {
        let department = kind_of((String::new(), (*suffix).to_string()));
        for action in ACTIONS {
            let mut item = licence_template.clone();
            item.name = if object.ends_with('证') || object.ends_with("证书") {
                format!("{object}{action}")
            } else {
                format!("{object}（{action}）")
            };
            item.service_object = *who;
            item.life_events = vec![*life_event];
            let short = object.trim_end_matches("证书").trim_end_matches('证');
            item.keywords = vec![format!("办{short}"), format!("{short}{action}")];
            item.acceptance_conditions = vec![
                format!("申请人符合{object}相关法律法规规定的条件"),
                format!("申请{action}的，申请材料齐全、符合法定形式"),
            ];
            item.situations.clear();
            item.result.result_type = if object.ends_with('证') || object.ends_with("证书") {
                ResultType::Certificate
            } else {
                ResultType::Document
            };
            item.result.name = if item.result.result_type == ResultType::Certificate {
                format!("《{object}》")
            } else {
                format!("准予{action}的决定书")
            };
            variants.push(Variant { item, department });
        }
        // 告知承诺制: the same licence granted on the applicant's written commitment.
        let mut item = variants[variants.len() - ACTIONS.len()].item.clone();
        item.name = format!("{}（告知承诺制）", item.name);
        item.acceptance_conditions
            .push("申请人书面承诺符合许可条件并按期补交材料".to_string());
        variants.push(Variant { item, department });
    }

    let divisions = divisions();
    let mut pairs: Vec<(u32, u32)> = (0..divisions.len() as u32)
        .flat_map(|d| (0..variants.len() as u32).map(move |v| (d, v)))
        .collect();
    let mut rng = Rng(SEED);
    rng.shuffle(&mut pairs);
    if pairs.len() < n {
        eprintln!(
            "note: only {} distinct (division, item) pairs; generating that many",
            pairs.len()
        );
    }
    pairs.truncate(n);
    pairs.sort_unstable();

    let mut names = HashMap::new();
    let mut items = Vec::with_capacity(pairs.len());
    for (d, v) in pairs {
        let (division_code, division_prefix) = &divisions[d as usize];
        let variant = &variants[v as usize];
        let (kind_prefix, kind_suffix) = &kinds[variant.department];
        let department_code = format!("11{division_code}{:09}X", variant.department);
        names
            .entry(department_code.clone())
            .or_insert_with(|| format!("{kind_prefix}{division_prefix}{kind_suffix}"));
        let mut item = variant.item.clone();
        item.base_code = format!("{:02}{:010}", base_code_prefix(item.item_type), v);
        item.implementation_code = format!("{department_code}{}", item.base_code);
        item.handling_code = None;
        item.parent_code = None;
        item.office = None;
        item.department_code = department_code;
        item.division_code = division_code.clone();
        items.push(item);
    }
    println!(
        "catalog: {} items from {} item kinds x {} divisions, {} departments (seed {SEED:#x})",
        items.len(),
        variants.len(),
        divisions.len(),
        names.len()
    );
    (items, names)
}

// ---------------------------------------------------------------------------------------------
// The query set.

#[derive(Clone)]
enum Filter {
    None,
    /// A county resident: the county, its city, the province (as `visible_divisions` gives).
    Divisions(Vec<&'static str>),
    Department(String),
}

#[derive(Clone)]
struct Kind {
    label: &'static str,
    text: &'static str,
    filter: Filter,
}

fn query_kinds() -> Vec<Kind> {
    let xihu = Filter::Divisions(vec!["330106", "330100", "330000", "339900"]);
    // 杭州市西湖区市场监督管理局 (department kind of the first licence, 市场监督管理局).
    let market = Filter::Department(String::new());
    let plain = |label, text| Kind {
        label,
        text,
        filter: Filter::None,
    };
    vec![
        plain("3 chars", "公积金"),
        plain("2 chars", "社保"),
        plain("4 chars", "户口迁移"),
        plain("synonym", "营业执照"),
        plain("4 chars", "结婚登记"),
        plain("7 chars", "提取住房公积金"),
        plain("7 chars", "食品经营许可证"),
        plain("2 chars", "退休"),
        plain("1 char", "证"),
        plain("question", "怎么办理居住证"),
        Kind {
            label: "division",
            text: "公积金",
            filter: xihu.clone(),
        },
        Kind {
            label: "division",
            text: "社保",
            filter: xihu,
        },
        Kind {
            label: "department",
            text: "许可证",
            filter: market,
        },
    ]
}

fn filter_text(f: &Filter) -> String {
    match f {
        Filter::None => String::new(),
        Filter::Divisions(d) => format!("division {}", d[0]),
        Filter::Department(_) => "dept 西湖区市监局".to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// SQLite FTS5 with the trigram tokenizer: the peer.

struct Fts5 {
    rt: tokio::runtime::Runtime,
    conn: SqliteConnection,
}

/// The text FTS5 indexes for an item: the same fields as the tantivy index.
fn fts_columns(item: &ServiceItem, names: &HashMap<String, String>) -> (String, String) {
    let keywords = item.keywords.join(" ");
    let mut body: Vec<&str> = Vec::new();
    if let Some(d) = names.get(&item.department_code) {
        body.push(d);
    }
    body.extend(item.situations.iter().map(|s| s.name.as_str()));
    body.extend(item.acceptance_conditions.iter().map(String::as_str));
    body.push(&item.result.name);
    (keywords, body.join("\n"))
}

/// An FTS5 phrase: the typed text, quoted.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

impl Fts5 {
    /// Builds the FTS5 table in one statement (rows passed as one JSON array), so that the time
    /// is SQLite's and not 100,000 round trips to sqlx's connection thread. Returns the peer,
    /// the time to fill the table, the time of FTS5's `optimize` (merging its b-trees).
    fn build(items: &[ServiceItem], names: &HashMap<String, String>) -> (Fts5, Duration, Duration) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let mut conn = rt
            .block_on(
                SqliteConnectOptions::from_str("sqlite::memory:")
                    .expect("sqlite url")
                    .connect(),
            )
            .expect("sqlite in memory");
        let rows = serde_json::Value::Array(
            items
                .iter()
                .map(|item| {
                    let (keywords, body) = fts_columns(item, names);
                    serde_json::json!([
                        item.implementation_code,
                        item.division_code,
                        item.department_code,
                        item.name,
                        keywords,
                        body
                    ])
                })
                .collect(),
        )
        .to_string();
        rt.block_on(
            sqlx::query(
                "CREATE VIRTUAL TABLE items USING fts5(code UNINDEXED, division UNINDEXED, \
                 department UNINDEXED, name, keywords, body, tokenize = 'trigram')",
            )
            .execute(&mut conn),
        )
        .expect("create fts5 table");
        let started = Instant::now();
        rt.block_on(
            sqlx::query(
                "INSERT INTO items (code, division, department, name, keywords, body) \
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, \
                 value ->> 5 FROM json_each($1)",
            )
            .bind(rows)
            .execute(&mut conn),
        )
        .expect("insert");
        let build = started.elapsed();
        let started = Instant::now();
        rt.block_on(
            sqlx::query("INSERT INTO items (items) VALUES ('optimize')").execute(&mut conn),
        )
        .expect("optimize");
        let optimize = started.elapsed();
        (Fts5 { rt, conn }, build, optimize)
    }

    /// What one query costs through sqlx before SQLite does anything: `SELECT 1`.
    fn round_trip(&mut self) {
        let _: i64 = self
            .rt
            .block_on(sqlx::query("SELECT 1").fetch_one(&mut self.conn))
            .expect("select 1")
            .get(0);
    }

    /// Total matches and the first page with highlights, in one statement (one round trip):
    /// what the API needs from a search.
    fn search(&mut self, text: &str, filter: &Filter) -> (usize, Vec<(String, String)>) {
        let phrase = fts_phrase(text);
        let conn = &mut self.conn;
        let rows = self.rt.block_on(async {
            match filter {
                Filter::None => {
                    sqlx::query(
                        "SELECT code, highlight(items, 3, '<b>', '</b>'), \
                         (SELECT count(*) FROM items WHERE items MATCH $1) \
                         FROM items WHERE items MATCH $1 \
                         ORDER BY bm25(items, 0, 0, 0, 3.0, 2.0, 1.0) LIMIT 20",
                    )
                    .bind(&phrase)
                    .fetch_all(&mut *conn)
                    .await
                }
                Filter::Divisions(d) => {
                    sqlx::query(
                        "SELECT code, highlight(items, 3, '<b>', '</b>'), \
                         (SELECT count(*) FROM items \
                          WHERE items MATCH $1 AND division IN ($2, $3, $4, $5)) \
                         FROM items WHERE items MATCH $1 AND division IN ($2, $3, $4, $5) \
                         ORDER BY bm25(items, 0, 0, 0, 3.0, 2.0, 1.0) LIMIT 20",
                    )
                    .bind(&phrase)
                    .bind(d[0])
                    .bind(d[1])
                    .bind(d[2])
                    .bind(d[3])
                    .fetch_all(&mut *conn)
                    .await
                }
                Filter::Department(code) => {
                    sqlx::query(
                        "SELECT code, highlight(items, 3, '<b>', '</b>'), \
                         (SELECT count(*) FROM items WHERE items MATCH $1 AND department = $2) \
                         FROM items WHERE items MATCH $1 AND department = $2 \
                         ORDER BY bm25(items, 0, 0, 0, 3.0, 2.0, 1.0) LIMIT 20",
                    )
                    .bind(&phrase)
                    .bind(code)
                    .fetch_all(&mut *conn)
                    .await
                }
            }
            .expect("fts5 search")
        });
        let total = rows.first().map_or(0, |r| r.get::<i64, _>(2)) as usize;
        let page = rows
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
            .collect();
        (total, page)
    }

    /// What an FTS5-based search has to fall back to for 1–2 character words: a scan with LIKE.
    fn like_count(&mut self, text: &str) -> usize {
        let pattern = format!("%{text}%");
        let total: i64 = self
            .rt
            .block_on(
                sqlx::query(
                    "SELECT count(*) FROM items WHERE name LIKE $1 OR keywords LIKE $1 \
                     OR body LIKE $1",
                )
                .bind(&pattern)
                .fetch_one(&mut self.conn),
            )
            .expect("like")
            .get(0);
        total as usize
    }
}

// ---------------------------------------------------------------------------------------------
// Measurement.

struct Latency {
    n: usize,
    p50: Duration,
    p95: Duration,
    p99: Duration,
    max: Duration,
}

/// Runs `f` `n` times (after a short warm-up), at most for `budget`, one call at a time on this
/// thread, and returns the latency percentiles.
fn measure(n: usize, budget: Duration, mut f: impl FnMut()) -> Latency {
    for _ in 0..(n / 20).clamp(3, 100) {
        f();
    }
    let mut samples = Vec::with_capacity(n);
    let started = Instant::now();
    while samples.len() < n && (samples.len() < 50 || started.elapsed() < budget) {
        let t = Instant::now();
        f();
        samples.push(t.elapsed());
    }
    samples.sort_unstable();
    let at =
        |p: f64| samples[((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    Latency {
        n: samples.len(),
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        max: samples[samples.len() - 1],
    }
}

/// `s` padded to `width` terminal columns (CJK characters take two).
fn pad(s: &str, width: usize) -> String {
    let used: usize = s.chars().map(|c| if c >= '\u{2E80}' { 2 } else { 1 }).sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(used)))
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time (user + system) of this process so far, in clock ticks.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Waits (at most 30 s) until the process is idle, i.e. tantivy's background segment merges
/// after the commit are over, so that they do not run during the latency measurements.
fn settle() -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let Some(before) = cpu_ticks() else {
            break;
        };
        std::thread::sleep(Duration::from_millis(250));
        // Less than 20 ms of CPU in 250 ms of sleep: nothing is running in the background.
        if cpu_ticks().unwrap_or(before).saturating_sub(before) < 2 {
            break;
        }
    }
    started.elapsed()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n_items = env_usize("ONETRIP_BENCH_ITEMS", if full { 100_000 } else { 2_000 });
    let n_queries = env_usize("ONETRIP_BENCH_QUERIES", if full { 2_000 } else { 20 });
    let budget = Duration::from_secs(env_usize("ONETRIP_BENCH_BUDGET_SECS", 8) as u64);

    // The jieba dictionary loads on first use (a one-off at process start): time it apart.
    let rss_start = rss_kib();
    let t = Instant::now();
    black_box(SearchIndex::query_words("加载词典"));
    let dictionary = t.elapsed();
    let rss_dictionary = rss_kib();

    let (items, names) = generate(n_items);

    let rss_before = rss_kib();
    let index = SearchIndex::new(WRITER_THREADS, WRITER_MEMORY).expect("search index");
    let t = Instant::now();
    index.rebuild(&items, &names).expect("rebuild");
    let build = t.elapsed();
    let rss_after = rss_kib();
    let build_rate = items.len() as f64 / build.as_secs_f64();

    let merges = settle();
    let (mut fts, fts_build, fts_optimize) = Fts5::build(&items, &names);
    let fts_rate = items.len() as f64 / fts_build.as_secs_f64();

    println!();
    println!(
        "== index build ({} items, one writer thread, 15 MB budget, as App::open) ==",
        items.len()
    );
    println!(
        "jieba dictionary load (first query, once per process): {} ms, RSS {} -> {} MiB",
        ms(dictionary),
        rss_start.unwrap_or_default() / 1024,
        rss_dictionary.unwrap_or_default() / 1024
    );
    println!(
        "onetrip SearchIndex::rebuild: {:.2} s = {:.0} items/s   (target >= 20,000 items/s: {})",
        build.as_secs_f64(),
        build_rate,
        if build_rate >= 20_000.0 {
            "met"
        } else {
            "MISSED"
        }
    );
    println!(
        "waited {:.1} s after the build for background merges to finish (not counted above)",
        merges.as_secs_f64()
    );
    if let (Some(a), Some(b)) = (rss_before, rss_after) {
        println!(
            "process RSS before/after the build: {} / {} MiB",
            a / 1024,
            b / 1024
        );
    }
    println!(
        "SQLite FTS5 trigram build (one INSERT … SELECT): {:.2} s = {:.0} items/s (+ optimize {:.2} s); onetrip/FTS5 build time ratio {:.2}",
        fts_build.as_secs_f64(),
        fts_rate,
        fts_optimize.as_secs_f64(),
        build.as_secs_f64() / fts_build.as_secs_f64()
    );

    let trip = measure(n_queries, budget, || fts.round_trip());
    println!(
        "sqlx round trip to its SQLite connection thread (SELECT 1), part of every FTS5 figure below: p50 {} ms, p99 {} ms",
        ms(trip.p50),
        ms(trip.p99)
    );

    // The department filter: 杭州市西湖区市场监督管理局.
    let market = names
        .iter()
        .filter(|(_, n)| n.as_str() == "杭州市西湖区市场监督管理局")
        .map(|(c, _)| c.clone())
        .next()
        .unwrap_or_default();
    let kinds: Vec<Kind> = query_kinds()
        .into_iter()
        .map(|mut k| {
            if let Filter::Department(_) = k.filter {
                k.filter = Filter::Department(market.clone());
            }
            k
        })
        .collect();
    let to_query = |k: &Kind| SearchQuery {
        text: k.text.to_string(),
        divisions: match &k.filter {
            Filter::Divisions(d) => Some(d.iter().map(|s| (*s).to_string()).collect()),
            _ => None,
        },
        department: match &k.filter {
            Filter::Department(c) => Some(c.clone()),
            _ => None,
        },
        limit: PAGE,
        ..SearchQuery::default()
    };

    println!();
    println!(
        "== query latency: page of {PAGE} + total + highlights, {n_queries} runs per query (capped at {} s), one thread, one query at a time ==",
        budget.as_secs()
    );
    println!(
        "{:<11} {:<16} {:<20} {:<8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}",
        "kind",
        "query",
        "filter",
        "engine",
        "matches",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "runs"
    );
    let mut worst_p99 = Duration::ZERO;
    let mut ratios = Vec::new();
    let show = std::env::var_os("ONETRIP_BENCH_SHOW").is_some();
    let name_of: HashMap<&str, &str> = items
        .iter()
        .map(|i| (i.implementation_code.as_str(), i.name.as_str()))
        .collect();
    let mut shown = Vec::new();
    for k in &kinds {
        let q = to_query(k);
        let first = index.search(&q).expect("search");
        let total = first.total;
        if show {
            let (_, page) = fts.search(k.text, &k.filter);
            let top = |codes: Vec<&str>| {
                codes
                    .iter()
                    .take(3)
                    .map(|c| name_of.get(c).copied().unwrap_or("?"))
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            shown.push(format!(
                "{} {}\n  onetrip: {}\n  fts5:    {}",
                k.text,
                filter_text(&k.filter),
                top(first
                    .hits
                    .iter()
                    .map(|h| h.implementation_code.as_str())
                    .collect()),
                top(page.iter().map(|(c, _)| c.as_str()).collect())
            ));
        }
        let ours = measure(n_queries, budget, || {
            black_box(index.search(&q).expect("search"));
        });
        worst_p99 = worst_p99.max(ours.p99);
        let (fts_total, _) = fts.search(k.text, &k.filter);
        let theirs = measure(n_queries, budget, || {
            black_box(fts.search(k.text, &k.filter));
        });
        if fts_total > 0 {
            ratios.push(theirs.p50.as_secs_f64() / ours.p50.as_secs_f64());
        }
        for (engine, matches, l) in [("onetrip", total, &ours), ("fts5", fts_total, &theirs)] {
            println!(
                "{:<11} {} {} {:<8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}",
                k.label,
                pad(k.text, 16),
                pad(&filter_text(&k.filter), 20),
                engine,
                matches,
                ms(l.p50),
                ms(l.p95),
                ms(l.p99),
                ms(l.max),
                l.n
            );
        }
    }
    println!(
        "worst onetrip p99: {} ms (target <= 5 ms: {})",
        ms(worst_p99),
        if worst_p99 <= Duration::from_millis(5) {
            "met"
        } else {
            "MISSED"
        }
    );
    if !ratios.is_empty() {
        let geo = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
        println!(
            "FTS5 p50 / onetrip p50 over the {} queries both engines answer: geometric mean {:.1}x, range {:.1}x to {:.1}x",
            ratios.len(),
            geo,
            ratios.iter().copied().fold(f64::INFINITY, f64::min),
            ratios.iter().copied().fold(0.0, f64::max)
        );
    }
    if show {
        println!();
        println!("== top 3 hits per engine ==");
        for line in &shown {
            println!("{line}");
        }
    }
    println!();
    println!("== what FTS5 trigram would need for 1-2 character words: a LIKE scan ==");
    for text in ["社保", "退休", "证"] {
        let count = fts.like_count(text);
        let l = measure((n_queries / 20).max(5), budget, || {
            black_box(fts.like_count(text));
        });
        println!(
            "LIKE '%{text}%' over name/keywords/body: {count} matches, p50 {} ms, p99 {} ms ({} runs)",
            ms(l.p50),
            ms(l.p99),
            l.n
        );
    }
    println!();

    // criterion's estimates for a few representative queries.
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    {
        let mut group = c.benchmark_group("search_100k");
        for k in kinds
            .iter()
            .filter(|k| matches!(k.text, "公积金" | "社保" | "提取住房公积金"))
        {
            let q = to_query(k);
            let id = format!(
                "onetrip/{}/{}",
                k.text,
                filter_text(&k.filter).replace(' ', "_")
            );
            group.bench_function(id, |b| {
                b.iter(|| black_box(index.search(&q).expect("search")))
            });
            if k.text != "社保" {
                let id = format!(
                    "fts5/{}/{}",
                    k.text,
                    filter_text(&k.filter).replace(' ', "_")
                );
                group.bench_function(id, |b| b.iter(|| black_box(fts.search(k.text, &k.filter))));
            }
        }
        group.finish();
    }
    c.final_summary();
}
