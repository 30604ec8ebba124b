//! Data tables of the generator, checked into `data/registry/`: Zhejiang's county-level
//! divisions with their 2020 census populations, surnames with their frequencies, and the
//! characters of given names.

use std::sync::OnceLock;

use crate::identifiers::DivisionCode;

const COUNTIES_CSV: &str = include_str!("../../../../data/registry/zhejiang_counties.csv");
const SURNAMES_CSV: &str = include_str!("../../../../data/registry/surnames.csv");
const GIVEN_NAMES: &str = include_str!("../../../../data/registry/given_names.txt");

/// A county-level division of Zhejiang in force (after the 2021 Hangzhou changes).
#[derive(Debug, Clone)]
pub struct County {
    /// Division code.
    pub code: DivisionCode,
    /// Name, e.g. `西湖区`.
    pub name: &'static str,
    /// City, e.g. `杭州市`.
    pub city: &'static str,
    /// Resident population in the 7th census (2020), recounted by the current boundaries.
    pub population: u64,
    /// Abolished codes that resident ID numbers of people first registered here before the
    /// change still carry, with the share of such people (e.g. 拱墅区 ← 下城区 330103).
    pub legacy_codes: Vec<(DivisionCode, f64)>,
}

/// The parsed tables.
pub(crate) struct Tables {
    pub counties: Vec<County>,
    /// Cumulative populations, for weighted picks.
    pub county_cumulative: Vec<u64>,
    pub surnames: Vec<&'static str>,
    pub surname_cumulative: Vec<u64>,
    pub male_chars: Vec<&'static str>,
    pub female_chars: Vec<&'static str>,
}

fn parse_counties() -> Vec<County> {
    COUNTIES_CSV
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .filter_map(|line| {
            let mut f = line.split(',');
            let code = DivisionCode::parse(f.next()?).ok()?;
            let name = f.next()?;
            let city = f.next()?;
            let population = f.next()?.trim().parse().ok()?;
            let legacy_codes = f
                .next()
                .unwrap_or("")
                .split(';')
                .filter(|s| !s.trim().is_empty())
                .filter_map(|s| {
                    let (c, share) = s.split_once(':')?;
                    Some((DivisionCode::parse(c).ok()?, share.trim().parse().ok()?))
                })
                .collect();
            Some(County {
                code,
                name,
                city,
                population,
                legacy_codes,
            })
        })
        .collect()
}

fn cumulative(weights: impl Iterator<Item = u64>) -> Vec<u64> {
    weights
        .scan(0u64, |acc, w| {
            *acc += w;
            Some(*acc)
        })
        .collect()
}

fn section(name: &str) -> Vec<&'static str> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in GIVEN_NAMES.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            inside = line == format!("[{name}]");
            continue;
        }
        if inside {
            out.extend(line.split_whitespace());
        }
    }
    out
}

pub(crate) fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let counties = parse_counties();
        let county_cumulative = cumulative(counties.iter().map(|c| c.population));
        let surnames_rows: Vec<(&'static str, u64)> = SURNAMES_CSV
            .lines()
            .skip(1)
            .filter_map(|l| {
                let (s, w) = l.split_once(',')?;
                Some((s.trim(), w.trim().parse().ok()?))
            })
            .collect();
        Tables {
            county_cumulative,
            counties,
            surname_cumulative: cumulative(surnames_rows.iter().map(|(_, w)| *w)),
            surnames: surnames_rows.into_iter().map(|(s, _)| s).collect(),
            male_chars: section("male"),
            female_chars: section("female"),
        }
    })
}

/// Zhejiang's county-level divisions in force, with their populations (from
/// `data/registry/zhejiang_counties.csv`).
pub fn counties() -> &'static [County] {
    &tables().counties
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tables_parse_completely() {
        let t = tables();
        assert_eq!(t.counties.len(), 90);
        assert!(t.counties.iter().all(|c| c.code.as_str().starts_with("33")));
        let codes: Vec<&str> = t.counties.iter().map(|c| c.code.as_str()).collect();
        // The 2021 Hangzhou changes: 下城 and 江干 abolished, 临平 and 钱塘 added.
        assert!(!codes.contains(&"330103") && !codes.contains(&"330104"));
        assert!(codes.contains(&"330113") && codes.contains(&"330114"));
        let total = *t.county_cumulative.last().unwrap();
        assert!((60_000_000..70_000_000).contains(&total), "{total}");
        assert!(t.surnames.len() > 90);
        assert_eq!(t.surnames.len(), t.surname_cumulative.len());
        assert!(t.male_chars.len() > 50 && t.female_chars.len() > 50);
        assert!(t.male_chars.iter().all(|c| c.chars().count() == 1));
    }
}
