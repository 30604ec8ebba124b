//! Chinese full-text search over the service catalog, with tantivy and jieba.
//!
//! Documents are indexed with jieba's search mode (a word and the dictionary words inside it, so
//! that 住房公积金 also yields 公积金); queries are cut in precise mode and each word may match
//! itself or one of its colloquial synonyms (社保 ↔ 社会保险, …). All words must match; when that
//! finds nothing, any word may match. Filters (division and its parents, department, service
//! object, item type, life event) are exact-term clauses. The index lives in memory: each replica
//! rebuilds it from the database at start and keeps it current as the catalog changes.
#![forbid(unsafe_code)]

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use onetrip_domain::catalog::{ItemStatus, ItemType, LifeEvent, ServiceItem, ServiceObject};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TantivyDocument, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{LowerCaser, TextAnalyzer, TokenStream, Tokenizer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};
use tantivy_jieba::JiebaTokenizer;

/// Colloquial synonyms: every word of a group finds the others.
pub const SYNONYMS: &[&[&str]] = &[
    &["社保", "社会保险"],
    &["公积金", "住房公积金"],
    &["户口", "户籍"],
    &["身份证", "居民身份证"],
    &["医保", "医疗保险"],
    &["营业执照", "设立登记"],
    &["退休", "退休金", "养老金"],
    &["驾照", "驾驶证"],
    &["迁移", "迁入", "迁出", "落户"],
];

/// Words that carry no meaning in a search box (怎么办理…, 我要…).
const STOP_WORDS: &[&str] = &[
    "的", "了", "和", "与", "及", "或", "在", "我", "我要", "要", "想", "怎么", "怎样", "如何",
    "请问", "吗", "呢", "办理", "办", "去", "哪里", "需要", " ",
];

const TOKENIZER: &str = "jieba";

/// The query that ran, the total number of matches, and the page of scored documents.
type Matches = (Box<dyn Query>, usize, Vec<(f32, TantivyDocument)>);

/// Errors of the search index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// tantivy failed.
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index writer lock was poisoned by a panic elsewhere.
    #[error("search index writer is unavailable")]
    Poisoned,
}

impl onetrip_domain::Localized for SearchError {
    fn code(&self) -> &'static str {
        "search_unavailable"
    }

    fn message_zh(&self) -> String {
        "搜索暂时不可用，请稍后重试".to_string()
    }

    fn message_en(&self) -> String {
        "Search is unavailable; please try again later".to_string()
    }
}

/// Result of a search operation.
pub type Result<T> = std::result::Result<T, SearchError>;

/// A search with its filters.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// What the user typed.
    pub text: String,
    /// Items implemented in any of these divisions (a division and its parents).
    pub divisions: Option<Vec<String>>,
    /// Department credit code.
    pub department: Option<String>,
    /// Kind of applicant; items for both kinds always match.
    pub service_object: Option<ServiceObject>,
    /// Item type.
    pub item_type: Option<ItemType>,
    /// Life event.
    pub life_event: Option<LifeEvent>,
    /// Also find cancelled items (kept for the cases filed under them; hidden by default).
    pub include_cancelled: bool,
    /// Page size.
    pub limit: usize,
    /// Hits to skip.
    pub offset: usize,
}

/// One hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Implementation code of the item.
    pub implementation_code: String,
    /// Relevance (BM25).
    pub score: f32,
    /// The item name as HTML with the matched words in `<b>…</b>` (the rest escaped).
    pub highlight: String,
}

/// A page of hits and the total number of matches.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// Matches before paging.
    pub total: usize,
    /// This page.
    pub hits: Vec<Hit>,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    code: Field,
    name: Field,
    keywords: Field,
    body: Field,
    division: Field,
    department: Field,
    service_object: Field,
    item_type: Field,
    life_event: Field,
    status: Field,
}

/// The in-memory search index over the catalog.
pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    synonyms: HashMap<String, Vec<Vec<String>>>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

/// What the index needs to know about an item besides the item itself.
pub trait DepartmentNames {
    /// Name of the department with this credit code.
    fn department_name(&self, code: &str) -> Option<&str>;
}

impl DepartmentNames for HashMap<String, String> {
    fn department_name(&self, code: &str) -> Option<&str> {
        self.get(code).map(String::as_str)
    }
}

impl SearchIndex {
    /// Creates an empty index in memory. `writer_memory` is tantivy's indexing budget in bytes
    /// (at least 15 MB per thread).
    pub fn new(writer_threads: usize, writer_memory: usize) -> Result<SearchIndex> {
        let mut builder = Schema::builder();
        let text = |stored: bool| {
            let indexing = TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions);
            let options = TextOptions::default().set_indexing_options(indexing);
            if stored {
                options.set_stored()
            } else {
                options
            }
        };
        let fields = Fields {
            code: builder.add_text_field("code", STRING | STORED),
            name: builder.add_text_field("name", text(true)),
            keywords: builder.add_text_field("keywords", text(false)),
            body: builder.add_text_field("body", text(false)),
            division: builder.add_text_field("division", STRING),
            department: builder.add_text_field("department", STRING),
            service_object: builder.add_text_field("service_object", STRING),
            item_type: builder.add_text_field("item_type", STRING),
            life_event: builder.add_text_field("life_event", STRING),
            status: builder.add_text_field("status", STRING),
        };
        let index = Index::create_in_ram(builder.build());
        index.tokenizers().register(
            TOKENIZER,
            TextAnalyzer::builder(JiebaTokenizer::new())
                .filter(LowerCaser)
                .build(),
        );
        let writer = index.writer_with_num_threads(writer_threads.max(1), writer_memory)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let mut synonyms: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        for group in SYNONYMS {
            for word in *group {
                let others = group
                    .iter()
                    .filter(|w| *w != word)
                    .map(|w| precise_words(w))
                    .collect();
                synonyms.insert((*word).to_string(), others);
            }
        }
        Ok(SearchIndex {
            reader,
            writer: Mutex::new(writer),
            fields,
            synonyms,
        })
    }

    fn document(&self, item: &ServiceItem, names: &dyn DepartmentNames) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.code, &item.implementation_code);
        doc.add_text(f.name, &item.name);
        for k in &item.keywords {
            doc.add_text(f.keywords, k);
        }
        if let Some(dept) = names.department_name(&item.department_code) {
            doc.add_text(f.body, dept);
        }
        for s in &item.situations {
            doc.add_text(f.body, &s.name);
        }
        for c in &item.acceptance_conditions {
            doc.add_text(f.body, c);
        }
        doc.add_text(f.body, &item.result.name);
        doc.add_text(f.division, &item.division_code);
        doc.add_text(f.department, &item.department_code);
        doc.add_text(f.service_object, item.service_object.as_str());
        doc.add_text(f.item_type, item.item_type.as_str());
        for e in &item.life_events {
            doc.add_text(f.life_event, e.as_str());
        }
        doc.add_text(f.status, item.status.as_str());
        doc
    }

    /// Replaces the whole index with `items`.
    pub fn rebuild(&self, items: &[ServiceItem], names: &dyn DepartmentNames) -> Result<()> {
        let mut writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        writer.delete_all_documents()?;
        for item in items {
            writer.add_document(self.document(item, names))?;
        }
        writer.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Adds or replaces the given items (matched by implementation code).
    pub fn upsert(&self, items: &[ServiceItem], names: &dyn DepartmentNames) -> Result<()> {
        let mut writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        for item in items {
            writer.delete_term(Term::from_field_text(
                self.fields.code,
                &item.implementation_code,
            ));
            writer.add_document(self.document(item, names))?;
        }
        writer.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Number of indexed items.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The words of a query after cutting, stop-word removal and deduplication.
    pub fn query_words(text: &str) -> Vec<String> {
        let mut seen = BTreeSet::new();
        precise_words(text)
            .into_iter()
            .filter(|w| !STOP_WORDS.contains(&w.as_str()))
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .filter(|w| seen.insert(w.clone()))
            .collect()
    }

    fn word_query(&self, word: &str) -> Box<dyn Query> {
        let f = &self.fields;
        // A word matches if it is a term of the name (strongest), keywords or body.
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, boost) in [(f.name, 3.0), (f.keywords, 2.0), (f.body, 1.0)] {
            let term = TermQuery::new(
                Term::from_field_text(field, word),
                IndexRecordOption::WithFreqs,
            );
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(term), boost)),
            ));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    fn alternatives_query(&self, word: &str) -> Box<dyn Query> {
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Should, self.word_query(word))];
        if let Some(synonyms) = self.synonyms.get(word) {
            for phrase in synonyms {
                let all: Vec<(Occur, Box<dyn Query>)> = phrase
                    .iter()
                    .map(|w| (Occur::Must, self.word_query(w)))
                    .collect();
                alternatives.push((Occur::Should, Box::new(BooleanQuery::new(all))));
            }
        }
        Box::new(BooleanQuery::new(alternatives))
    }

    fn filters(&self, q: &SearchQuery) -> Vec<(Occur, Box<dyn Query>)> {
        let f = &self.fields;
        let term = |field: Field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            ))
        };
        let any_of = |field: Field, values: &[&str]| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                values
                    .iter()
                    .map(|v| (Occur::Should, term(field, v)))
                    .collect(),
            ))
        };
        let mut out = Vec::new();
        if let Some(divisions) = &q.divisions {
            let values: Vec<&str> = divisions.iter().map(String::as_str).collect();
            out.push((Occur::Must, any_of(f.division, &values)));
        }
        if let Some(d) = &q.department {
            out.push((Occur::Must, term(f.department, d)));
        }
        if let Some(o) = q.service_object
            && o != ServiceObject::Both
        {
            out.push((Occur::Must, any_of(f.service_object, &[o.as_str(), "both"])));
        }
        if let Some(t) = q.item_type {
            out.push((Occur::Must, term(f.item_type, t.as_str())));
        }
        if let Some(e) = q.life_event {
            out.push((Occur::Must, term(f.life_event, e.as_str())));
        }
        if !q.include_cancelled {
            out.push((
                Occur::MustNot,
                term(f.status, ItemStatus::Cancelled.as_str()),
            ));
        }
        out
    }

    /// Searches. An empty text (after stop words) matches nothing: list the catalog instead.
    pub fn search(&self, q: &SearchQuery) -> Result<SearchResults> {
        let words = Self::query_words(&q.text);
        if words.is_empty() || q.limit == 0 {
            return Ok(SearchResults {
                total: 0,
                hits: Vec::new(),
            });
        }
        let searcher = self.reader.searcher();
        let run = |occur: Occur| -> Result<Matches> {
            let text: Vec<(Occur, Box<dyn Query>)> = words
                .iter()
                .map(|w| (occur, self.alternatives_query(w)))
                .collect();
            let mut clauses: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Must, Box::new(BooleanQuery::new(text)))];
            clauses.extend(self.filters(q));
            let query: Box<dyn Query> = Box::new(BooleanQuery::new(clauses));
            let collector = TopDocs::with_limit(q.limit)
                .and_offset(q.offset)
                .order_by_score();
            let (top, total) = searcher.search(&query, &(collector, Count))?;
            let docs = top
                .into_iter()
                .map(|(score, address)| Ok((score, searcher.doc(address)?)))
                .collect::<Result<Vec<_>>>()?;
            Ok((query, total, docs))
        };
        let (mut query, mut total, mut docs) = run(Occur::Must)?;
        if total == 0 && words.len() > 1 {
            (query, total, docs) = run(Occur::Should)?;
        }
        let mut hits = Vec::with_capacity(docs.len());
        if !docs.is_empty() {
            let mut snippets = SnippetGenerator::create(&searcher, &*query, self.fields.name)?;
            snippets.set_max_num_chars(500);
            for (score, doc) in docs {
                let text_of = |field: Field| {
                    doc.get_first(field)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string()
                };
                let snippet = snippets.snippet_from_doc(&doc);
                let highlight = if snippet.fragment().is_empty() {
                    escape_html(&text_of(self.fields.name))
                } else {
                    snippet.to_html()
                };
                hits.push(Hit {
                    implementation_code: text_of(self.fields.code),
                    score,
                    highlight,
                });
            }
        }
        Ok(SearchResults { total, hits })
    }
}

/// Cuts text into words in jieba's precise mode (the mode for queries).
fn precise_words(text: &str) -> Vec<String> {
    let mut tokenizer = JiebaTokenizer::with_search_mode(false);
    let mut stream = tokenizer.token_stream(text);
    let mut words = Vec::new();
    while stream.advance() {
        let word = stream.token().text.trim().to_lowercase();
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
